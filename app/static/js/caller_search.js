// Find the customer as you type (#caller-search): suggestions from the search endpoint, picked
// with the arrows and Enter or the mouse; the pick fills #customer_id and #caller-chosen, then
// the page's own `onPick(item)` runs. Shared by the hotline screen and the voice quick form.
// User text only via textContent.
window.callerSearch = function (input, onPick) {
  "use strict";
  var list = document.getElementById("caller-suggestions");
  var hidden = document.getElementById("customer_id");
  var chosen = document.getElementById("caller-chosen");
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
  function pick(i) {
    var item = items[i];
    if (!item) { return; }
    hidden.value = item.id;
    chosen.hidden = false;
    chosen.textContent = "✓ " + item.name + (item.company ? " · " + item.company : "") + " · " + item.phones.join(", ");
    input.value = item.name;
    clear();
    onPick(item);
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
};
