// Search as you type: suggestions under the box; Enter still submits the plain GET form,
// so the page works without JavaScript. Arrow keys move through the list.
(function () {
  "use strict";
  var input = document.querySelector("input[data-suggest-url]");
  if (!input) { return; }
  var list = document.getElementById(input.getAttribute("aria-controls"));
  var timer = null, active = -1, lastQuery = null, controller = null;

  function clear() { list.innerHTML = ""; list.hidden = true; active = -1; }

  function render(items) {
    clear();
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = "suggestion-" + i;
      var a = document.createElement("a");
      a.href = item.url;
      var name = document.createElement("strong");
      name.textContent = item.name;
      a.appendChild(name);
      var meta = document.createElement("span");
      meta.textContent = " " + [item.company || "", item.phones.join(", "), item.office].join(" · ");
      a.appendChild(meta);
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
  }

  function fetchNow() {
    var q = input.value.trim();
    if (q === lastQuery) { return; }
    lastQuery = q;
    if (q.length < 1) { clear(); return; }
    if (controller) { controller.abort(); }
    controller = new AbortController();
    fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" }, signal: controller.signal, credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { render(data.items); })
      .catch(function () { /* aborted or offline: the form still works */ });
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
    clearTimeout(timer);
    timer = setTimeout(fetchNow, 120);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Escape") { clear(); }
    else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      window.location = list.querySelectorAll("li")[active].querySelector("a").href;
    }
  });
})();
