// Live queue: new escalations arrive as server-sent events and are added without a reload.
// Every value is written with textContent, never as HTML.
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table || !window.EventSource) { return; }
  var body = table.tBodies[0];
  var onFirstPage = table.dataset.page === "1";
  var source = new EventSource("/events?since=" + encodeURIComponent(table.dataset.since));

  function cell(row, text, className) {
    var td = row.insertCell(-1);
    td.textContent = text;
    if (className) { td.className = className; }
    return td;
  }

  function insert(item) {
    if (body.querySelector('tr[data-reference="' + CSS.escape(item.reference) + '"]')) { return; }
    var empty = body.querySelector("tr.empty");
    if (empty) { empty.remove(); }
    var row = document.createElement("tr");
    row.className = "sla-" + item.sla + " fresh";
    row.dataset.reference = item.reference;
    row.dataset.priority = item.priority;
    row.dataset.created = item.created_at;
    cell(row, "P" + item.priority);
    cell(row, item.kind_label);
    cell(row, item.age);
    cell(row, item.summary, "summary");
    cell(row, item.claimed_by || "\u2014");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.reference;
    row.insertCell(-1).appendChild(link);
    var before = null;
    Array.prototype.some.call(body.rows, function (other) {
      var p = Number(other.dataset.priority);
      if (p > item.priority || (p === item.priority && other.dataset.created > item.created_at)) { before = other; return true; }
      return false;
    });
    body.insertBefore(row, before);
    var total = document.getElementById("total");
    total.textContent = String(Number(total.textContent) + 1);
  }

  function alertFor(item) {
    var box = document.createElement("div");
    box.className = "alert";
    box.setAttribute("role", "alert");
    box.appendChild(document.createTextNode("New emergency: "));
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.reference + " \u2014 " + item.summary.slice(0, 120);
    box.appendChild(link);
    document.getElementById("alerts").appendChild(box);
  }

  source.addEventListener("escalation", function (event) {
    var item = JSON.parse(event.data);
    if (onFirstPage && item.first_page) { insert(item); }
    else if (onFirstPage) {
      var total = document.getElementById("total");
      total.textContent = String(Number(total.textContent) + 1);
    }
    if (item.sla === "emergency") { alertFor(item); }
  });
})();

// Escalation page: the conversation's transcript refreshes itself every two seconds.
(function () {
  "use strict";
  var section = document.getElementById("conversation");
  var list = document.getElementById("transcript");
  if (!section || !list || !window.fetch) { return; }
  var url = "/api/escalations/" + encodeURIComponent(section.dataset.reference) + "/transcript";
  var shown = "";

  function line(item) {
    var li = document.createElement("li");
    li.className = "line " + item.speaker;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = item.speaker;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = item.time;
    var said = document.createElement("span");
    said.className = "said";
    said.textContent = item.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(when);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(said);
    return li;
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.available) { return; }
        var key = JSON.stringify(data.lines);
        if (key === shown) { return; }
        shown = key;
        while (list.firstChild) { list.removeChild(list.firstChild); }
        data.lines.forEach(function (item) { list.appendChild(line(item)); });
        list.scrollTop = list.scrollHeight;
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  list.scrollTop = list.scrollHeight;  // the newest lines first in view
  setInterval(refresh, 2000);
})();
