// The layout's behaviour for every page; each part works without it too.
//
// Confirmation dialogs (see townsquare/core/confirm.py). A form marked data-confirm posts to a view that
// answers with its confirmation; without JavaScript that is a whole page. Here the same confirmation is
// fetched and shown in the page's <dialog id="confirm-dialog">, whose confirm button re-posts the form.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-confirm")) { return; }
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function" || !window.fetch || !window.FormData) { return; }
    e.preventDefault();
    var data = new FormData(form);
    if (e.submitter && e.submitter.name) { data.append(e.submitter.name, e.submitter.value); }
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        dialog.innerHTML = html;
        dialog.showModal();
        var focus = dialog.querySelector("[autofocus]");
        if (focus) { focus.focus(); }
      })
      .catch(function () { HTMLFormElement.prototype.submit.call(form); }); // the server's confirmation page
  });
  document.addEventListener("click", function (e) {
    var closer = e.target && e.target.closest ? e.target.closest("#confirm-dialog [data-dialog-close]") : null;
    if (closer) { e.preventDefault(); closer.closest("dialog").close(); }
  });
})();

// Unsaved changes: a page with several forms (a task's collaborators and thanks, a request's triage beside
// its action buttons) saves each on its own, so leaving, or submitting another of its forms, while a form
// marked data-warn-unsaved holds typed text asks the browser's own "leave the page?" first.
(function () {
  "use strict";
  var dirty = [];
  function marked(target) {
    var form = target && target.form;
    return form && form.hasAttribute("data-warn-unsaved") ? form : null;
  }
  function onEdit(e) {
    var form = marked(e.target);
    if (form && dirty.indexOf(form) < 0) { dirty.push(form); }
  }
  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);
  document.addEventListener("submit", function (e) {
    var i = dirty.indexOf(e.target);
    if (i >= 0) { dirty.splice(i, 1); } // this one is being saved; the others still count
  });
  window.addEventListener("beforeunload", function (e) {
    if (dirty.length) { e.preventDefault(); e.returnValue = ""; }
  });
})();

// A secret field marked data-reveal (a destination's Apprise URL) gets a Show/Hide button, so a long URL can
// be checked while it is typed. Without JavaScript there is no button: the field stays hidden, as typed.
(function () {
  "use strict";
  function addToggles() {
    var fields = document.querySelectorAll("input[data-reveal]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.nextElementSibling && field.nextElementSibling.hasAttribute("data-reveal-toggle")) { continue; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = "Show";
      button.setAttribute("data-reveal-toggle", "");
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-label", "Show the " + ((field.labels && field.labels[0] && field.labels[0].textContent) || "value"));
      if (field.id) { button.setAttribute("aria-controls", field.id); }
      field.insertAdjacentElement("afterend", button);
    }
  }
  document.addEventListener("DOMContentLoaded", addToggles);
  document.addEventListener("click", function (e) {
    var button = e.target && e.target.closest ? e.target.closest("[data-reveal-toggle]") : null;
    if (!button) { return; }
    var field = button.previousElementSibling;
    var shown = field.type === "password";
    field.type = shown ? "text" : "password";
    button.textContent = shown ? "Hide" : "Show";
    button.setAttribute("aria-pressed", shown ? "true" : "false");
  });
})();
