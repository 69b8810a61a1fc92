// Keyboard shortcuts for the feedback theme inbox: j/k move, x select, o/Enter open, m merge selected, / search.
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#fb-inbox tbody tr")); }
  var current = -1;
  function focusRow(i) {
    var all = rows();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, j) { r.classList.toggle("fb-current", j === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }
  function updateMerge() {
    var button = document.getElementById("fb-merge");
    if (button) { button.disabled = document.querySelectorAll("#fb-inbox input[name=themes]:checked").length < 2; }
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "themes") { updateMerge(); }
  });
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" && e.target.type !== "checkbox" || tag === "TEXTAREA" || tag === "SELECT" || e.metaKey || e.ctrlKey || e.altKey) { return; }
    var all = rows();
    if (e.key === "j") { focusRow(current + 1); e.preventDefault(); }
    else if (e.key === "k") { focusRow(current - 1); e.preventDefault(); }
    else if (e.key === "x" && all[current]) {
      var box = all[current].querySelector("input[name=themes]");
      if (box) { box.checked = !box.checked; updateMerge(); }
      e.preventDefault();
    } else if ((e.key === "o" || e.key === "Enter") && all[current]) { window.location.href = all[current].dataset.url; e.preventDefault(); }
    else if (e.key === "m") {
      var button = document.getElementById("fb-merge");
      if (button && !button.disabled) { document.getElementById("fb-inbox-form").requestSubmit(button); }
      e.preventDefault();
    } else if (e.key === "/") {
      var search = document.getElementById("fb-search");
      if (search) { search.focus(); e.preventDefault(); }
    }
  });
  document.addEventListener("DOMContentLoaded", updateMerge);
  // Filters, sorting and pages swap #fb-results: the rows are new, so is the selection.
  document.addEventListener("htmx:afterSwap", function () { current = -1; updateMerge(); });
})();
