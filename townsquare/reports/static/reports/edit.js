// The draft editor: warn before leaving with unsaved text, and confirm publishing in a <dialog>.
// Without JavaScript the editor is one plain form and "Publish…" leads to a confirmation page.
(function () {
  "use strict";
  var dirty = false;
  function setDirty(value) {
    dirty = value;
    var status = document.querySelector("[data-unsaved-status]");
    if (status) { status.textContent = value ? "Unsaved changes" : ""; }
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.form && e.target.form.hasAttribute("data-unsaved-warning")) { setDirty(true); }
  });
  document.addEventListener("submit", function (e) {
    // Saving the editor keeps the text; publishing with unsaved text asks the browser's own question.
    if (e.target && e.target.hasAttribute("data-unsaved-warning")) { setDirty(false); }
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = ""; }
  });
  document.addEventListener("click", function (e) {
    var opener = e.target && e.target.closest ? e.target.closest("[data-dialog]") : null;
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog && typeof dialog.showModal === "function") {
        e.preventDefault();
        var notice = dialog.querySelector("[data-unsaved-notice]");
        if (notice) { notice.hidden = !dirty; }
        dialog.showModal();
      }
      return;
    }
    var closer = e.target && e.target.closest ? e.target.closest("dialog [data-dialog-close]") : null;
    if (closer) { e.preventDefault(); closer.closest("dialog").close(); }
  });
})();
