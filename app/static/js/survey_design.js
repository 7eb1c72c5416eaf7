// Survey design form: add rows from <template>, hide removed rows, show the weight total.
// Without JavaScript the page still works: one blank row of each kind, and "Remove" boxes.
(function () {
  "use strict";
  var form = document.getElementById("survey-design");
  if (!form) return;
  // server rows are numbered 0..n-1; added rows continue from there (removed rows stay in
  // the page with their box ticked, so numbers never repeat)
  var next = {
    question: document.querySelectorAll("#question-rows tr").length,
    indicator: document.querySelectorAll("#indicator-rows tr").length
  };

  function addRow(kind) {
    var template = document.getElementById(kind + "-template");
    var body = document.getElementById(kind + "-rows");
    var n = String(next[kind]++);
    var html = template.innerHTML.replace(/__n__/g, n);
    body.insertAdjacentHTML("beforeend", html);
    var first = body.lastElementChild && body.lastElementChild.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function total() {
    var sum = 0;
    form.querySelectorAll("#indicator-rows tr").forEach(function (row) {
      var removed = row.querySelector(".remove-row");
      var input = row.querySelector("input.weight");
      if (!input || (removed && removed.checked)) return;
      var value = parseFloat(input.value);
      if (!isNaN(value)) sum += value;
    });
    var out = document.getElementById("weight-total");
    if (out) {
      out.textContent = (Math.round(sum * 100) / 100) + " %";
      out.className = Math.abs(sum - 100) <= 0.01 ? "" : "error";
    }
  }

  form.querySelectorAll("[data-add]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { addRow(button.getAttribute("data-add")); total(); });
  });
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("remove-row")) {
      target.closest("tr").classList.toggle("removed", target.checked);
    }
    total();
  });
  form.addEventListener("input", total);
  total();
})();
