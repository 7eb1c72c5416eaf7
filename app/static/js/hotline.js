// The hotline screen: find the caller as you type (caller_search.js), see their
// open issues and last ratings, and submit with Ctrl+Enter. Everything user-written is put
// on the page with textContent, never as HTML.
(function () {
  "use strict";
  var input = document.getElementById("caller-search");
  if (!input) { return; }
  var form = document.getElementById("intake-form");
  var title = document.getElementById("title");

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }

  function showPanel(data) {
    document.getElementById("caller-panel-empty").hidden = true;
    document.getElementById("caller-panel-body").hidden = false;
    var open = document.getElementById("caller-open"), ratings = document.getElementById("caller-ratings");
    open.innerHTML = ""; ratings.innerHTML = "";
    data.open_issues.forEach(function (i) {
      var li = document.createElement("li"), a = text("a", i.number);
      a.href = i.url; li.appendChild(a); li.appendChild(text("span", " " + i.title + " · " + i.status));
      open.appendChild(li);
    });
    if (!data.open_issues.length) { open.appendChild(text("li", "—")); }
    data.ratings.forEach(function (r) { ratings.appendChild(text("li", r.number + ": " + "★".repeat(r.rating))); });
    if (!data.ratings.length) { ratings.appendChild(text("li", "—")); }
    var risk = document.getElementById("caller-risk");
    risk.innerHTML = "";
    (data.warnings || []).forEach(function (w) {
      var li = document.createElement("li"), b = text("span", w.label);
      b.className = "badge warning-" + w.code;
      li.appendChild(b); li.appendChild(text("span", " " + w.message));
      risk.appendChild(li);
    });
    document.getElementById("caller-risk-box").hidden = !risk.children.length;
  }

  window.callerSearch(input, function (item) {
    document.getElementById("new-customer").open = false;
    fetch(input.dataset.panelUrl.replace("/0.json", "/" + item.id + ".json"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { showPanel(data); } })
      .catch(function () {});
    title.focus();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "F2") { e.preventDefault(); input.focus(); input.select(); }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
})();
