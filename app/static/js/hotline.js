// The hotline screen, by keyboard alone: find the caller as you type (caller_search.js), or
// open the inline new-customer form from the search (its last entry) or with Alt+N; Enter
// moves on through the caller's fields to the title and the description; Ctrl+Enter submits
// and the next call starts in the search box. Beside the form: the caller's open issues with
// the working time left, recent contacts and voices, last ratings and warnings. Everything
// user-written is put on the page with textContent, never as HTML.
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

  // --- a new caller: the inline customer form, reached from the search or with Alt+N ---
  var details = document.getElementById("new-customer");
  var name = document.getElementById("new_customer_name");
  var phone = document.getElementById("new_customer_phone");
  var company = document.getElementById("new_customer_company");
  var description = document.getElementById("description");
  var PHONE_LIKE = /^[+\d][\d\s()\-]{5,}$/;

  function openNewCustomer(typed) {
    search.reset();
    document.getElementById("customer_id").value = "";
    document.getElementById("caller-chosen").hidden = true;
    document.getElementById("caller-panel-empty").hidden = false;
    document.getElementById("caller-panel-body").hidden = true;
    details.open = true;
    typed = (typed || "").trim();
    // what the agent typed in the search box is the caller's number or their name
    if (typed && PHONE_LIKE.test(typed)) { if (!phone.value) { phone.value = typed; } }
    else if (typed && !name.value) { name.value = typed; }
    name.focus();
    name.setSelectionRange(name.value.length, name.value.length);
  }

  // Enter moves on through the caller's fields and the title instead of submitting half a
  // form; Ctrl+Enter submits from anywhere
  [[name, phone], [phone, company], [company, title], [title, description]].forEach(function (pair) {
    pair[0].addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey) {
        e.preventDefault();
        pair[1].focus();
      }
    });
  });

  var search = window.callerSearch(input, function (item) {
    details.open = false;
    fetch(input.dataset.panelUrl.replace("/0.json", "/" + item.id + ".json"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { showPanel(data); } })
      .catch(function () {});
    title.focus();
  }, { onCreate: openNewCustomer, createLabel: input.dataset.createLabel });

  document.addEventListener("keydown", function (e) {
    if (e.key === "F2") { e.preventDefault(); input.focus(); input.select(); }
    else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    else if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyN" || e.key === "n" || e.key === "N")) {
      e.preventDefault();
      openNewCustomer(document.getElementById("customer_id").value ? "" : input.value);
    }
  });
})();
