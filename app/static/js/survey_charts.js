// Draw each campaign chart from the figure JSON the page carries (escaped by |tojson).
(function () {
  "use strict";
  if (!window.Plotly) return;
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) return;
    var fig = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false });
  });
})();
