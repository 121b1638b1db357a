// craton progress page: one run, live from Server-Sent Events.
// Plain JavaScript, no build step. The server sends one "batch" message per read
// of the run's Redis stream (events + the current state of the hosts they name +
// the run summary); messages are queued and applied once per animation frame, and
// only the visible rows of the host list are in the DOM, so 10,000 hosts stay fluid.
(function () {
  "use strict";
  var base = document.body.dataset.base;
  var runId = decodeURIComponent(location.pathname.split("/runs/").pop());
  var STATUSES = ["pending", "running", "ok", "changed", "failed", "unreachable", "skipped"];
  var DONE = { ok: 1, changed: 1, failed: 1, unreachable: 1, skipped: 1 };
  var ORDER = { failed: 0, unreachable: 1, running: 2, pending: 3, changed: 4, ok: 5, skipped: 6 };
  var COLORS = { ok: "#2e9d4f", changed: "#d9a400", failed: "#d2302f", unreachable: "#8e44ad",
                 skipped: "#7fa7c9", running: "#3b82f6", pending: "#d5d9de" };
  var ROW = 22, LOG_MAX = 200, HEAVY_MS = 250;

  var S = {
    runId: runId, summary: {}, hosts: new Map(), region: new Map(), groups: new Map(),
    agg: { regions: new Map(), groups: new Map() }, writers: {}, flows: {}, tasks: {}, byTask: {},
    lastId: "0-0", snapshotId: null, snapshots: 0, events: 0, duplicates: 0, batches: 0, connects: 0, connection: "connecting",
    finished: false, log: [], filter: "all", search: "", selected: null
  };
  var pending = [], scheduled = false, heavyTimer = null, logDirty = true, listDirty = true, view = [], es = null, lastSort = 0;

  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
  function idLE(a, b) {
    var x = a.split("-"), y = b.split("-");
    var d = Number(x[0]) - Number(y[0]);
    return d < 0 || (d === 0 && Number(x[1]) <= Number(y[1]));
  }
  function zero() { var c = { expected: 0, done: 0 }; STATUSES.forEach(function (s) { c[s] = 0; }); return c; }
  function bump(map, key, status, d) {
    var c = map.get(key); if (!c) { c = zero(); map.set(key, c); }
    c[status] += d; c.expected += d; if (DONE[status]) c.done += d;
  }

  // --- state -------------------------------------------------------------------
  function setHost(name, state) {
    var old = S.hosts.get(name), was = old ? old.status || "pending" : null, now = state.status || "pending";
    if (!old) namesDirty = true;
    if (ORDER[now] === undefined) now = state.status = "pending";  // a status this page does not know
    S.hosts.set(name, state);
    listDirty = true;
    if (was === now) return;
    var region = S.region.get(name) || "(not in fleet)", groups = S.groups.get(name) || [];
    if (was) { bump(S.agg.regions, region, was, -1); groups.forEach(function (g) { bump(S.agg.groups, g, was, -1); }); }
    bump(S.agg.regions, region, now, 1); groups.forEach(function (g) { bump(S.agg.groups, g, now, 1); });
  }

  function applySnapshot(snap) {
    S.summary = snap.summary; S.writers = snap.writers || {}; S.lastId = snap.last_id;
    S.snapshots++;
    if (!S.snapshotId) S.snapshotId = snap.last_id;  // where the live events start
    S.flows = snap.driver.flows || {}; S.tasks = snap.driver.tasks || {}; S.byTask = snap.driver.by_task || {};
    S.hosts = new Map(); S.region = new Map(); S.groups = new Map();
    S.agg = { regions: new Map(), groups: new Map() };
    var m = snap.membership || { regions: {}, groups: {} };
    Object.keys(m.regions).forEach(function (r) { m.regions[r].forEach(function (h) { S.region.set(h, r); }); });
    Object.keys(m.groups).forEach(function (g) { m.groups[g].forEach(function (h) {
      var l = S.groups.get(h); if (!l) { l = []; S.groups.set(h, l); } l.push(g); }); });
    S.membershipError = m.error;
    Object.keys(snap.hosts).forEach(function (h) { setHost(h, snap.hosts[h]); });
    S.log = (snap.recent || []).slice(-LOG_MAX);
    logDirty = true;
    S.finished = snap.summary.state === "finished";
  }

  function applyBatch(b) {
    S.batches++;
    if (idLE(b.first, S.lastId)) S.duplicates++;  // never expected: the server skips what was sent
    S.summary = b.summary;
    Object.keys(b.hosts).forEach(function (h) { setHost(h, b.hosts[h]); });
    b.events.forEach(function (e) {
      if (e.type === "flow_state") S.flows[e.flow || ""] = e;
      else if (e.type === "task_state") {
        S.byTask[e.task || ""] = e;
        if (e.host) { S.tasks[e.host] = e; listDirty = true; }
      }
    });
    S.events += b.events.length;
    logDirty = true;
    S.log = S.log.concat(b.events.length > LOG_MAX ? b.events.slice(-LOG_MAX) : b.events);
    if (S.log.length > LOG_MAX) S.log = S.log.slice(-LOG_MAX);
    S.lastId = b.last;
  }

  function frame() {
    scheduled = false;
    var items = pending; pending = [];
    items.forEach(function (it) {
      if (it.reset) applySnapshot(it.reset);
      else if (it.batch) applyBatch(it.batch);
    });
    render();
  }
  function schedule() { if (!scheduled) { scheduled = true; requestAnimationFrame(frame); } }

  // --- live ----------------------------------------------------------------------
  function connect() {
    if (es) es.close();
    var url = base + "/api/runs/" + encodeURIComponent(runId) + "/events?after=" + encodeURIComponent(S.lastId);
    es = new EventSource(url);
    window.cratonProgress.eventSource = es;
    es.onopen = function () { S.connects++; S.connection = "live"; schedule(); };
    es.addEventListener("batch", function (m) { pending.push({ batch: JSON.parse(m.data) }); schedule(); });
    es.addEventListener("reset", function (m) { pending.push({ reset: JSON.parse(m.data) }); schedule(); });
    es.addEventListener("end", function () {
      es.close(); S.connection = "finished"; S.finished = true; schedule();
    });
    es.onerror = function () {
      if (S.connection === "finished") return;
      S.connection = "reconnecting"; schedule();
      if (es.readyState === EventSource.CLOSED) {  // an HTTP error: the browser gives up, we do not
        var closed = es;
        setTimeout(function () { if (es === closed) connect(); }, 1000);
      }
    };
  }

  function load() {
    return fetch(base + "/api/runs/" + encodeURIComponent(runId), { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (e) { throw new Error(e.message || e.detail || r.statusText); },
                                        function () { throw new Error(r.status + " " + r.statusText); });
        return r.json();
      })
      .then(function (snap) {
        applySnapshot(snap);
        if (S.finished) S.connection = "finished"; else connect();
        render();
      })
      .catch(function (err) { S.connection = "error: " + err.message; render(); setTimeout(load, 3000); });
  }

  // --- drawing -------------------------------------------------------------------
  function fmtTime(ts) { return ts ? new Date(ts * 1000).toLocaleString() : ""; }
  function fmtDur(s) { s = Math.max(0, Math.round(s)); return (s >= 3600 ? Math.floor(s / 3600) + "h " : "") +
    (s >= 60 ? Math.floor(s % 3600 / 60) + "m " : "") + s % 60 + "s"; }
  function text(id, v) { var el = $(id); v = String(v); if (el.textContent !== v) el.textContent = v; }

  function matches(name, st) {
    var f = S.filter, status = st.status || "pending";
    if (f === "done" ? !DONE[status] : f !== "all" && status !== f) return false;
    if (!S.search) return true;
    var q = S.search;
    return name.toLowerCase().indexOf(q) >= 0 || (st.task || "").toLowerCase().indexOf(q) >= 0 ||
      (st.msg || st.error || "").toLowerCase().indexOf(q) >= 0 || (S.region.get(name) || "").toLowerCase() === q;
  }

  // The list order: problems first (failed, unreachable, running, pending, then done), by
  // name within a status. Names are sorted once (when hosts are added), then each rebuild
  // is one pass into per-status buckets: no sort of 10,000 hosts per update.
  var sortedNames = [], namesDirty = true;
  function rebuildView() {
    if (namesDirty) { sortedNames = Array.from(S.hosts.keys()).sort(); namesDirty = false; }
    var buckets = [[], [], [], [], [], [], []];
    for (var i = 0; i < sortedNames.length; i++) {
      var name = sortedNames[i], st = S.hosts.get(name);
      if (matches(name, st)) buckets[ORDER[st.status || "pending"]].push(name);
    }
    view = [].concat.apply([], buckets);
    listDirty = false;
  }

  function renderOverview() {
    var s = S.summary, expected = s.hosts_expected || 0;
    var done = 0; ["ok", "changed", "failed", "unreachable", "skipped"].forEach(function (k) { done += s["hosts_" + k] || 0; });
    text("title", (s.playbook ? s.playbook.split("/").pop() + " · " : "") + runId);
    var failures = (s.hosts_failed || 0) + (s.hosts_unreachable || 0);
    var st = $("state"); text("state", s.state || "unknown");
    st.className = "badge " + (s.state || "") + (s.state === "finished" && failures ? " with-failures" : "");
    var conn = $("connection"); text("connection", S.connection); conn.className = "badge conn " + S.connection.split(":")[0];
    text("count-done", done); text("count-expected", expected);
    STATUSES.forEach(function (k) { text("count-" + k, s["hosts_" + k] || 0); });
    var segs = $("bar").children;
    ["ok", "changed", "failed", "unreachable", "skipped", "running"].forEach(function (k, i) {
      var w = expected ? (100 * (s["hosts_" + k] || 0) / expected).toFixed(3) + "%" : "0";
      if (segs[i].style.width !== w) segs[i].style.width = w;
    });
    var started = s.started_at, end = s.ended_at || (s.state === "finished" ? s.updated_at : Date.now() / 1000);
    $("meta").innerHTML = "<span>playbook <b>" + esc(s.playbook || "?") + "</b></span><span>started " +
      esc(fmtTime(started)) + "</span><span>by " + esc(s.user || "?") + "@" + esc(s.controller || "?") +
      "</span><span>" + (s.state === "finished" ? "took " : "running for ") + esc(fmtDur(end - started)) +
      "</span><span>events " + esc(s.events || 0) + (s.events_dropped ? " (" + esc(s.events_dropped) + " dropped)" : "") +
      "</span><span>writers running " + esc(s.writers_running || 0) + "</span>";
    var fin = $("final");
    if (s.state === "finished") {
      fin.hidden = false;
      fin.className = "final" + (failures ? " with-failures" : "");
      var parts = ["ok", "changed", "failed", "unreachable", "skipped", "pending"].filter(function (k) {
        return s["hosts_" + k]; }).map(function (k) { return s["hosts_" + k] + " " + k; });
      fin.innerHTML = "<b>Finished</b> " + esc(fmtTime(s.ended_at)) + " — " + esc(parts.join(", ") || "no hosts") +
        (s.hosts_pending ? " (pending hosts were never run)" : "");
    } else fin.hidden = true;
  }

  function minibar(c) {
    var out = "";
    ["ok", "changed", "failed", "unreachable", "skipped", "running"].forEach(function (k) {
      if (c[k]) out += '<span class="st-' + k + '" style="width:' + (100 * c[k] / c.expected).toFixed(2) + '%"></span>';
    });
    return '<td class="minibar"><div>' + out + "</div></td>";
  }
  function renderAgg(id, map, empty) {
    var keys = Array.from(map.keys()).filter(function (k) { return map.get(k).expected > 0; }).sort();
    var html = "<tr><th>name</th><th>done</th><th></th><th>failed</th><th>unreach.</th><th>not done</th></tr>";
    keys.forEach(function (k) {
      var c = map.get(k);
      html += '<tr data-name="' + esc(k) + '"><td title="' + esc(k) + '">' + esc(k) + "</td><td>" + c.done + "/" +
        c.expected + "</td>" + minibar(c) + "<td>" + c.failed + "</td><td>" + c.unreachable + "</td><td>" +
        (c.running + c.pending) + "</td></tr>";
    });
    if (!keys.length) html += '<tr><td class="muted" colspan="6">' + esc(empty) + "</td></tr>";
    $(id).innerHTML = html;
  }

  function renderDriver() {
    var html = "", writers = Object.keys(S.writers).map(function (k) { return S.writers[k]; });
    var driverWriters = writers.filter(function (w) { return w.source === "driver"; });
    Object.keys(S.flows).forEach(function (f) {
      var e = S.flows[f];
      html += '<div class="flow">flow ' + esc(f || "(unnamed)") + ": " + esc(e.state) + "</div>" +
        (e.msg ? '<div class="muted">' + esc(e.msg) + "</div>" : "");
    });
    var byState = {};
    Object.keys(S.byTask).forEach(function (t) { var st = S.byTask[t].state; byState[st] = (byState[st] || 0) + 1; });
    var states = Object.keys(byState).sort();
    if (states.length) html += '<div id="driver-tasks">tasks: ' + states.map(function (k) { return esc(k) + " " + byState[k]; }).join(", ") + "</div>";
    driverWriters.forEach(function (w) {
      html += '<div class="muted">driver pid ' + esc(w.pid) + " on " + esc(w.controller) + (w.running ? " running" : " ended") + "</div>";
    });
    if (!html) html = '<span class="muted">no driver in this run (' + writers.length + " playbook writer" +
      (writers.length === 1 ? "" : "s") + ")</span>";
    if ($("driver").innerHTML !== html) $("driver").innerHTML = html;
  }

  function renderGrid() {
    var canvas = $("grid"), n = view.length, width = canvas.clientWidth || 800;
    var cell = n <= 500 ? 14 : n <= 3000 ? 8 : 5, cols = Math.max(1, Math.floor(width / cell));
    var height = Math.max(cell, Math.ceil(n / cols) * cell);
    var ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.floor(width * ratio) || canvas.height !== Math.floor(height * ratio)) {
      canvas.width = Math.floor(width * ratio); canvas.height = Math.floor(height * ratio);
      canvas.style.height = height + "px";
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    var gap = cell > 6 ? 1 : 0, last = null;
    for (var i = 0; i < n; i++) {  // the view is grouped by status: few colour changes
      var color = COLORS[S.hosts.get(view[i]).status || "pending"];
      if (color !== last) { ctx.fillStyle = color; last = color; }
      ctx.fillRect((i % cols) * cell, Math.floor(i / cols) * cell, cell - gap, cell - gap);
    }
    canvas.dataset.cell = cell; canvas.dataset.cols = cols;
  }

  function renderRows() {
    var body = $("hosts-body"), top = body.scrollTop, h = body.clientHeight || 440;
    $("hosts-spacer").style.height = view.length * ROW + "px";
    var first = Math.max(0, Math.floor(top / ROW) - 5), last = Math.min(view.length, Math.ceil((top + h) / ROW) + 5);
    var html = "";
    for (var i = first; i < last; i++) {
      var name = view[i], st = S.hosts.get(name), status = st.status || "pending", task = S.tasks[name];
      var msg = st.msg || st.error || "";
      if (task) msg = "driver: " + task.state + (task.attempt ? " (attempt " + task.attempt + ")" : "") + (msg ? " · " + msg : "");
      html += '<div class="host-row" data-host="' + esc(name) + '" data-status="' + status + '"><span class="name">' +
        esc(name) + '</span><span class="status st-' + status + '">' + status + "</span><span>" +
        esc(S.region.get(name) || "") + '</span><span class="task" title="' + esc(st.task) + '">' + esc(st.task || "") +
        '</span><span class="msg" title="' + esc(msg) + '">' + esc(msg) + "</span></div>";
    }
    var rows = $("hosts-rows");
    rows.style.top = first * ROW + "px";
    if (rows.innerHTML !== html) rows.innerHTML = html;
    text("shown", view.length + " of " + S.hosts.size + " hosts");
  }

  function renderLog() {
    var lines = S.log.slice(-LOG_MAX).map(function (e) {
      var cls = e.type === "host_failed" ? "failed" : e.type === "host_unreachable" ? "unreachable" : e.source === "driver" ? "driver" : "";
      var t = new Date((e.ts || 0) * 1000).toLocaleTimeString();
      return '<div class="' + cls + '">' + esc(t + " " + e.type + (e.host ? " " + e.host : "") +
        (e.task ? " · " + e.task : "") + (e.play && e.type === "play_start" ? " " + e.play : "") +
        (e.state ? " " + e.state : "") + (e.msg ? " · " + e.msg : "")) + "</div>";
    }).join("");
    var log = $("log"), stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.innerHTML = lines;
    if (stick) log.scrollTop = log.scrollHeight;
    text("last-id", "last id " + S.lastId + " · " + S.events + " live events");
  }

  function render() {
    // Cheap parts every frame: the bar and the counts.
    renderOverview();
    // The rest (tables, re-sorting and drawing 10,000 hosts, the log) at most 4 times a
    // second, and once more when updates stop, so a busy run never starves the page.
    var now = performance.now();
    if (now - lastSort < HEAVY_MS && !S.finished && S.connection === "live") {
      if (!heavyTimer) heavyTimer = setTimeout(function () { heavyTimer = null; lastSort = 0; schedule(); }, HEAVY_MS);
      return;
    }
    renderAgg("agg-regions", S.agg.regions, S.membershipError ? "fleet database: " + S.membershipError : "no regions");
    renderAgg("agg-groups", S.agg.groups, "no groups");
    renderDriver();
    if (listDirty) rebuildView();
    lastSort = now;
    renderGrid();
    renderRows();
    if (logDirty) renderLog();
    logDirty = false;
    document.body.dataset.ready = "1";
  }

  // --- controls ------------------------------------------------------------------
  $("filters").addEventListener("click", function (e) {
    var f = e.target.dataset && e.target.dataset.filter; if (!f) return;
    S.filter = f;
    Array.prototype.forEach.call($("filters").children, function (b) { b.classList.toggle("on", b.dataset.filter === f); });
    listDirty = true; lastSort = 0; schedule();
  });
  $("search").addEventListener("input", function (e) { S.search = e.target.value.trim().toLowerCase(); listDirty = true; lastSort = 0; schedule(); });
  $("hosts-body").addEventListener("scroll", function () { renderRows(); });
  $("grid").addEventListener("click", function (e) {
    var c = $("grid"), cell = Number(c.dataset.cell), cols = Number(c.dataset.cols), r = c.getBoundingClientRect();
    var i = Math.floor((e.clientY - r.top) / cell) * cols + Math.floor((e.clientX - r.left) / cell);
    if (view[i]) { $("search").value = view[i]; S.search = view[i].toLowerCase(); listDirty = true; lastSort = 0; schedule(); }
  });
  window.addEventListener("resize", schedule);

  // For tests and the curious: the state, and a way to drop and reopen the stream.
  window.cratonProgress = {
    state: S, connect: connect, eventSource: null,
    reconnect: function () { if (es) es.close(); S.connection = "reconnecting"; connect(); }
  };
  load();
})();
