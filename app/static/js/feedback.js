// The character counter of the public feedback form; the page works without it.
(function () {
  "use strict";
  var text = document.getElementById("text");
  var box = document.getElementById("text-count");
  var value = document.getElementById("text-count-value");
  if (!text || !box || !value) return;
  var max = parseInt(box.getAttribute("data-max"), 10) || 5000;
  function update() {
    var n = text.value.length;
    value.textContent = String(n);
    box.classList.toggle("near", n >= max * 0.9 && n <= max);
    box.classList.toggle("over", n > max);
  }
  text.addEventListener("input", update);
  update();
})();
