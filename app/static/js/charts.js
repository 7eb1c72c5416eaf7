/* Draws the plotly figures embedded in report pages (a <script type="application/json"> per
   chart, written with Jinja's tojson) and opens the table views for printing. No build step. */
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (!source) { return; }
      var fig = JSON.parse(source.textContent);
      window.Plotly.newPlot(el, fig.data || [], fig.layout || {},
        { responsive: true, displaylogo: false, displayModeBar: false })
        .then(function () { el.setAttribute("data-drawn", "1"); });
    });
  }
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.table-view:not([open])").forEach(function (d) {
      d.setAttribute("open", ""); opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.removeAttribute("open"); }); opened = [];
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
