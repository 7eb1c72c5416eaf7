// Likely repeats of what is being typed, on the voice quick form (data-mode="form") and on the
// hotline screen (data-mode="intake"). It asks /voices/repeats with the text, customer, category
// and office known so far, and shows each candidate with "link" (the new voice or issue will be
// saved as a repeat of it) and "dismiss"; both go in the form's hidden fields repeat_target and
// dismissed, and are stored with the record. Everything user-written goes on the page with
// textContent, never as HTML.
(function () {
  "use strict";
  var panel = document.getElementById("repeat-panel");
  if (!panel) { return; }
  var form = panel.dataset.mode === "form";
  var linkable = form || panel.dataset.mode === "intake";
  var list = document.getElementById("repeat-list");
  var empty = document.getElementById("repeat-empty");
  var words = document.getElementById("repeat-labels").dataset;
  var chosen = document.getElementById("repeat-chosen");
  var targetInput = document.getElementById("repeat_target");
  var dismissedInput = document.getElementById("dismissed");
  function el(id) { return document.getElementById(id); }
  var textFields = form ? [el("text")] : [el("title"), el("description")];
  var dismissed = {}, lastKey = null, controller = null, items = [];

  function value(id) { var e = el(id); return e ? (e.value || "") : ""; }
  function text(tag, v, cls) { var e = document.createElement(tag); e.textContent = v; if (cls) { e.className = cls; } return e; }
  function key(item) { return item.kind + ":" + item.id; }

  function saveDismissed() {
    if (dismissedInput) { dismissedInput.value = Object.keys(dismissed).join(","); }
  }

  function render() {
    list.innerHTML = "";
    var shown = items.filter(function (i) { return !dismissed[key(i)]; });
    shown.forEach(function (item) {
      var li = document.createElement("li");
      li.dataset.kind = item.kind; li.dataset.id = item.id;
      li.className = "repeat-candidate";
      var a = text("a", item.label, "mono"); a.href = item.url; a.target = "_blank";
      li.appendChild(a);
      if (item.status) { li.appendChild(text("span", " · " + item.status)); }
      li.appendChild(text("span", " · " + item.text));
      if (linkable && targetInput) {
        var link = text("button", words.link, "btn repeat-link"); link.type = "button";
        link.addEventListener("click", function () { choose(item); });
        li.appendChild(link);
      }
      var dismiss = text("button", words.dismiss, "btn repeat-dismiss"); dismiss.type = "button";
      dismiss.addEventListener("click", function () { dismissed[key(item)] = true; saveDismissed(); render(); });
      li.appendChild(dismiss);
      list.appendChild(li);
    });
    empty.hidden = shown.length > 0;
  }

  function choose(item) {
    targetInput.value = key(item);
    chosen.hidden = false; chosen.innerHTML = "";
    chosen.appendChild(text("span", "✓ " + words.linked + " "));
    chosen.appendChild(text("strong", item.label));
    var undo = text("button", words.undo, "btn"); undo.type = "button";
    undo.addEventListener("click", function () { targetInput.value = ""; chosen.hidden = true; });
    chosen.appendChild(undo);
  }

  function query() {
    var typed = textFields.map(function (f) { return f ? f.value : ""; }).join(" ").trim();
    var params = new URLSearchParams({
      text: typed, customer_id: value("customer_id"), category: value("category"), office: value("office")
    });
    var k = params.toString();
    if (k === lastKey) { return; }
    lastKey = k;
    if (typed.length < 4) { items = []; render(); return; }
    if (controller) { controller.abort(); }
    controller = new AbortController();
    fetch(panel.dataset.repeatsUrl + "?" + k, { headers: { "Accept": "application/json" }, signal: controller.signal, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { items = data.items; render(); })
      .catch(function () {});
  }

  // a form shown again after an error keeps its hidden fields: so does the panel
  if (dismissedInput && dismissedInput.value) {
    dismissedInput.value.split(",").forEach(function (k) { if (k) { dismissed[k] = true; } });
  }
  if (targetInput && targetInput.value && chosen) {
    var kept = targetInput.value.split(":");
    choose({ kind: kept[0], id: kept[1], label: targetInput.value });
  }

  // the customer and the category may change without an input event (picked from a list)
  setInterval(query, 600);
})();
