// Drag-and-drop ranking for a team's priority list. The list is a form of hidden
// "order" inputs; after a drop we fire "end" on the form and HTMX posts the new order.
// Without JavaScript the arrow buttons in the same form do the job.
(function () {
  "use strict";
  var dragged = null;
  var before = "";

  function orderOf(list) {
    return Array.prototype.map.call(list.querySelectorAll(".priority-item"), function (li) { return li.dataset.id; }).join(",");
  }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest(".priority-item[draggable='true']") : null;
    if (!item) { return; }
    dragged = item;
    before = orderOf(item.parentNode);
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.id);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) { return; }
    var over = event.target.closest ? event.target.closest(".priority-item") : null;
    if (!over || over.parentNode !== dragged.parentNode) { return; }
    event.preventDefault();
    if (over === dragged) { return; }
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, after ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) { event.preventDefault(); }
  });

  document.addEventListener("dragend", function () {
    if (!dragged) { return; }
    var list = dragged.parentNode;
    var form = dragged.closest("form");
    dragged.classList.remove("dragging");
    dragged = null;
    Array.prototype.forEach.call(list.querySelectorAll(".priority-item .rank"), function (rank, i) { rank.textContent = String(i + 1); });
    if (form && orderOf(list) !== before) {
      form.dispatchEvent(new CustomEvent("end", { bubbles: true }));
    }
  });
})();
