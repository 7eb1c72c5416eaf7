// The voice quick form: find the customer as you type (the hotline's search), show the
// chosen channel's own fields, prefill dimension / category / sentiment from the text where
// the agent has not chosen them, and submit with Ctrl+Enter. User text only via textContent.
(function () {
  "use strict";
  var form = document.getElementById("voice-form");
  if (!form) { return; }
  var input = document.getElementById("caller-search");
  var channel = document.getElementById("channel");
  var office = document.getElementById("office");
  var textArea = document.getElementById("text");
  var channelFields = JSON.parse(form.dataset.channelFields);

  // --- customer lookup (caller_search.js) ---
  window.callerSearch(input, function (item) {
    if (office && Array.prototype.some.call(office.options, function (o) { return o.value === item.office; })) {
      office.value = item.office;
    }
    textArea.focus();
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
