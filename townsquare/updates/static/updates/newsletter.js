/* Copy buttons of the newsletter export: a button with data-copy="<textarea id>" copies that text.
   No inline scripts (CSP). Falls back to selecting the text when the clipboard API is unavailable
   (plain http on another host). */
(function () {
  "use strict";

  function say(button, text) {
    var status = button.parentNode.querySelector(".copy-status");
    if (status) status.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "Copied."); },
        function () { source.select(); say(button, "Selected: press Ctrl+C to copy."); }
      );
    } else {
      source.focus();
      source.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(button, copied ? "Copied." : "Selected: press Ctrl+C to copy.");
    }
  });
})();
