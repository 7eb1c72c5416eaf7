// The voice quick form: find the customer as you type (the hotline's search), show the
// chosen channel's own fields, prefill dimension / category / sentiment from the text where
// the agent has not chosen them, and submit with Ctrl+Enter. User text only via textContent.
(function () {
  "use strict";
  var form = document.getElementById("voice-form");
  if (!form) { return; }
  var input = document.getElementById("caller-search");
  var list = document.getElementById("caller-suggestions");
  var hidden = document.getElementById("customer_id");
  var chosen = document.getElementById("caller-chosen");
  var channel = document.getElementById("channel");
  var office = document.getElementById("office");
  var textArea = document.getElementById("text");
  var channelFields = JSON.parse(form.dataset.channelFields);
  var timer = null, active = -1, items = [], controller = null;

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function clear() { list.innerHTML = ""; list.hidden = true; active = -1; items = []; }

  // --- customer lookup ---
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
    if (office && Array.prototype.some.call(office.options, function (o) { return o.value === item.office; })) {
      office.value = item.office;
    }
    clear();
    textArea.focus();
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

  // --- the channel's own fields ---
  function showDetails() {
    var wanted = channelFields[channel.value] || [];
    document.querySelectorAll("#channel-details .detail-field").forEach(function (div) {
      var field = div.querySelector("input");
      div.hidden = wanted.indexOf(div.dataset.detail) < 0 && !(field && field.value);
    });
  }
  channel.addEventListener("change", showDetails);
  showDetails();

  // --- classification suggestions (the endpoint may not exist: then nothing happens) ---
  var touched = {}, classifyTimer = null, classifyController = null;
  ["dimension", "category", "sentiment"].forEach(function (name) {
    var select = document.getElementById(name);
    if (select.value) { touched[name] = true; }
    select.addEventListener("change", function () { touched[name] = true; });
  });
  function classify() {
    var t = textArea.value.trim();
    if (t.length < 2) { return; }
    if (classifyController) { classifyController.abort(); }
    classifyController = new AbortController();
    fetch(form.dataset.classifyUrl + "?text=" + encodeURIComponent(t),
          { headers: { "Accept": "application/json" }, signal: classifyController.signal, credentials: "same-origin" })
      .then(function (r) { return r.status === 200 ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var set = false;
        ["dimension", "category", "sentiment"].forEach(function (name) {
          var select = document.getElementById(name), v = data[name];
          if (touched[name] || !v) { return; }
          if (Array.prototype.some.call(select.options, function (o) { return o.value === v; })) {
            select.value = v; set = true;
          }
        });
        document.getElementById("classify-hint").hidden = !set;
      })
      .catch(function () {});
  }
  textArea.addEventListener("input", function () { clearTimeout(classifyTimer); classifyTimer = setTimeout(classify, 400); });

  // --- keys ---
  document.addEventListener("keydown", function (e) {
    if (e.key === "F2") { e.preventDefault(); input.focus(); input.select(); }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    else if (e.altKey && (e.key === "c" || e.key === "C")) { e.preventDefault(); channel.focus(); }
    else if (e.altKey && (e.key === "t" || e.key === "T")) { e.preventDefault(); textArea.focus(); }
  });
})();
