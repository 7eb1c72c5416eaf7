// The hotline screen: find the caller as you type (caller_search.js), see their open issues
// with the working time left, recent contacts and voices and last ratings, and submit with
// Ctrl+Enter. Everything user-written is put on the page with textContent, never as HTML.
(function () {
  "use strict";
  var input = document.getElementById("caller-search");
  if (!input) { return; }
  var form = document.getElementById("intake-form");
  var title = document.getElementById("title");

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }

  function fill(id, items, render) {
    var list = document.getElementById(id);
    list.innerHTML = "";
    items.forEach(function (item) { list.appendChild(render(item)); });
    if (!items.length) { list.appendChild(text("li", "—")); }
  }
  function link(label, href) { var a = text("a", label); a.href = href; return a; }
  function timeLeft(t) {
    var span = text("span", t.text);
    span.className = "time-left" + (t.overdue ? " late" : "") + (t.paused ? " paused" : "");
    span.dataset.target = t.target;
    span.dataset.minutes = String(t.overdue ? -t.minutes : t.minutes);
    return span;
  }

  function showPanel(data) {
    document.getElementById("caller-panel-empty").hidden = true;
    document.getElementById("caller-panel-body").hidden = false;
    fill("caller-open", data.open_issues, function (i) {
      var li = document.createElement("li");
      li.appendChild(link(i.number, i.url));
      li.appendChild(text("span", " " + i.title + " · " + i.status + " "));
      if (i.time_left) { li.appendChild(timeLeft(i.time_left)); }
      return li;
    });
    fill("caller-contacts", data.recent_contacts || [], function (c) {
      var li = document.createElement("li"), arrow = text("span", c.direction === "out" ? "→ " : "← ");
      arrow.title = c.direction_label;
      li.appendChild(text("span", c.at_local + " ")).className = "when";
      li.appendChild(arrow);
      li.appendChild(text("span", c.channel_label + " · " + c.text + " · "));
      li.appendChild(link(c.issue_number, c.issue_url));
      return li;
    });
    fill("caller-voices", data.recent_voices || [], function (v) {
      var li = document.createElement("li");
      li.appendChild(text("span", v.at_local + " ")).className = "when";
      li.appendChild(text("span", v.channel_label + " · " + v.text + " · "));
      li.appendChild(link(v.reference, v.url));
      return li;
    });
    fill("caller-ratings", data.ratings, function (r) { return text("li", r.number + ": " + "★".repeat(r.rating)); });
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
