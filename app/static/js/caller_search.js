// Find the customer as you type (#caller-search): suggestions from the search endpoint, picked
// with the arrows and Enter or the mouse; the pick fills #customer_id and #caller-chosen, then
// the page's own `onPick(item)` runs. Shared by the hotline screen and the voice quick form.
// With `options.onCreate`, the list ends with a "new customer" entry (the only one when nobody
// matches), and picking it calls `onCreate(typed text)`. Enter pressed before the results
// arrive waits for them, so a fast typist's Enter is never lost; leaving the box closes the
// list. User text only via textContent.
window.callerSearch = function (input, onPick, options) {
  "use strict";
  options = options || {};
  var list = document.getElementById("caller-suggestions");
  var hidden = document.getElementById("customer_id");
  var chosen = document.getElementById("caller-chosen");
  var timer = null, active = -1, items = [], controller = null, pending = false, query = "";
  var createShown = false;

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function clear() {
    list.innerHTML = ""; list.hidden = true; active = -1; items = []; createShown = false;
    input.removeAttribute("aria-activedescendant");
  }
  function option(i, label, detail) {
    var li = document.createElement("li");
    li.setAttribute("role", "option");
    li.id = "caller-option-" + i;
    li.appendChild(text("strong", label));
    li.appendChild(text("span", detail));
    li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(i); });
    list.appendChild(li);
    return li;
  }

  function render(found) {
    clear();
    items = found;
    found.forEach(function (item, i) {
      option(i, item.name, " " + [item.company || "", item.phones.join(", "), item.office].join(" · "));
    });
    if (options.onCreate && query) {
      option(found.length, "+ " + options.createLabel, " “" + query + "”").className = "create";
      createShown = true;
    }
    list.hidden = !list.children.length;
    // nobody matches: the new-customer entry is the one Enter takes, so show it as chosen
    if (!found.length && list.children.length) { move(1); }
  }
  function search() {
    timer = null;
    query = input.value.trim();
    if (!query) { clear(); pending = false; return; }
    if (controller) { controller.abort(); }
    var mine = controller = new AbortController();
    fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(query),
          { headers: { "Accept": "application/json" }, signal: mine.signal, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        if (controller !== mine) { return; }
        controller = null;
        if (document.activeElement !== input && !pending) { return; }  // the agent moved on
        render(data.items);
        if (pending) { pending = false; choose(); }
      })
      .catch(function () { if (controller === mine) { controller = null; pending = false; } });
  }
  function pick(i) {
    if (createShown && i === items.length) {
      var typed = query;
      clear();
      options.onCreate(typed);
      return;
    }
    var item = items[i];
    if (!item) { return; }
    hidden.value = item.id;
    chosen.hidden = false;
    chosen.textContent = "✓ " + item.name + (item.company ? " · " + item.company : "") + " · " + item.phones.join(", ");
    input.value = item.name;
    clear();
    onPick(item);
  }
  function choose() { pick(active >= 0 ? active : 0); }
  function move(delta) {
    var shown = list.querySelectorAll("li");
    if (!shown.length) { return; }
    if (active >= 0) { shown[active].classList.remove("active"); }
    active = (active + delta + shown.length) % shown.length;
    shown[active].classList.add("active");
    input.setAttribute("aria-activedescendant", shown[active].id);
  }
  function reset() {
    clearTimeout(timer); timer = null; pending = false;
    if (controller) { controller.abort(); controller = null; }
    clear();
  }
  input.addEventListener("blur", clear);
  input.addEventListener("input", function () {
    hidden.value = ""; chosen.hidden = true;
    clearTimeout(timer); timer = setTimeout(search, 120);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Escape") { clear(); pending = false; }
    else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      if (timer !== null || controller !== null) { pending = true; } else { choose(); }
    }
  });
  // the page may close the list itself (the hotline's Alt+N opens the new-customer form)
  return { reset: reset };
};
