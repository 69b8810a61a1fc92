/* Board drag and drop: HTML5 drag events fill in a card's own move form and submit it.
   HTMX posts the form and swaps in the new board; without JavaScript the same form works
   by itself. No inline scripts (CSP). */
(function () {
  "use strict";
  var dragged = null;

  function columnOf(target) {
    var column = target && target.closest ? target.closest(".board-column") : null;
    return column ? column.querySelector(".column-cards") : null;
  }

  function cardBelow(list, y) {
    var cards = list.querySelectorAll(".task-card:not(.is-dragging)");
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return cards[i];
    }
    return null;
  }

  function clearMarks() {
    document.querySelectorAll(".drop-before, .is-over").forEach(function (el) {
      el.classList.remove("drop-before", "is-over");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest(".task-card[draggable=true]") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.task);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearMarks();
  });

  document.addEventListener("dragover", function (event) {
    var list = columnOf(event.target);
    if (!list || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    list.classList.add("is-over");
    var below = cardBelow(list, event.clientY);
    if (below) below.classList.add("drop-before");
  });

  document.addEventListener("drop", function (event) {
    var list = columnOf(event.target);
    if (!list || !dragged) return;
    event.preventDefault();
    var below = cardBelow(list, event.clientY);
    var form = dragged.querySelector("form.move-form");
    if (!form) return;
    form.elements.column.value = list.dataset.column;
    form.elements.before.value = below ? below.dataset.task : "";
    var empty = list.querySelector(".column-empty");
    if (empty) empty.remove();
    list.insertBefore(dragged, below);  // show it at once; the server's board replaces it
    dragged.classList.add("is-saving");
    clearMarks();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
})();
