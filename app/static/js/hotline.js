// The hotline screen: find the caller as you type, pick with the arrows and Enter, see their
// open issues and last ratings, and submit with Ctrl+Enter. Everything user-written is put
// on the page with textContent, never as HTML.
(function () {
  "use strict";
  var input = document.getElementById("caller-search");
  if (!input) { return; }
  var list = document.getElementById("caller-suggestions");
  var hidden = document.getElementById("customer_id");
  var chosen = document.getElementById("caller-chosen");
  var form = document.getElementById("intake-form");
  var title = document.getElementById("title");
  var timer = null, active = -1, items = [], controller = null;

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }

  function clear() { list.innerHTML = ""; list.hidden = true; active = -1; items = []; }

  function render(found) {
    clear();
    items = found;
    found.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "caller-option-" + i;
      li.appendChild(text("strong", item.name));
      li.appendChild(text("span", " " + [item.company || "", item.phones.join(", "), item.office].join(" · ")));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
      list.appendChild(li);
    });
    list.hidden = found.length === 0;
  }

  function search() {
    var q = input.value.trim();
    if (!q) { clear(); return; }
    if (controller) { controller.abort(); }
    controller = new AbortController();
    fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(q),
          { headers: { "Accept": "application/json" }, signal: controller.signal, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { render(data.items); })
      .catch(function () {});
  }

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

  function pick(i) {
    var item = items[i];
    if (!item) { return; }
    hidden.value = item.id;
    chosen.hidden = false;
    chosen.textContent = "✓ " + item.name + (item.company ? " · " + item.company : "") + " · " + item.phones.join(", ");
    input.value = item.name;
    clear();
    document.getElementById("new-customer").open = false;
    fetch(input.dataset.panelUrl.replace("/0.json", "/" + item.id + ".json"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { showPanel(data); } })
      .catch(function () {});
    title.focus();
  }

  function move(delta) {
    var options = list.querySelectorAll("li");
    if (!options.length) { return; }
    if (active >= 0) { options[active].classList.remove("active"); }
    active = (active + delta + options.length) % options.length;
    options[active].classList.add("active");
    input.setAttribute("aria-activedescendant", options[active].id);
  }

  input.addEventListener("input", function () {
    hidden.value = ""; chosen.hidden = true;
    clearTimeout(timer); timer = setTimeout(search, 120);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Escape") { clear(); }
    else if (e.key === "Enter") { e.preventDefault(); pick(active >= 0 ? active : 0); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "F2") { e.preventDefault(); input.focus(); input.select(); }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
})();
