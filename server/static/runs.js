// craton progress page: the runs list (running first), refreshed every 2 seconds.
(function () {
  "use strict";
  var base = document.body.dataset.base;
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
  function bar(s) {
    var out = "", total = s.hosts_expected || 0;
    ["ok", "changed", "failed", "unreachable", "skipped", "running"].forEach(function (k) {
      if (total && s["hosts_" + k]) out += '<span class="st-' + k + '" style="width:' + (100 * s["hosts_" + k] / total).toFixed(2) + '%"></span>';
    });
    return '<div class="minibar"><div>' + out + "</div></div>";
  }
  function done(s) {
    return ["ok", "changed", "failed", "unreachable", "skipped"].reduce(function (a, k) { return a + (s["hosts_" + k] || 0); }, 0);
  }
  function render(runs) {
    var html = runs.map(function (s) {
      var url = base + "/runs/" + encodeURIComponent(s.run_id);
      return '<tr data-run="' + esc(s.run_id) + '" data-state="' + esc(s.state) + '"><td><span class="badge ' + esc(s.state) + '">' +
        esc(s.state) + '</span></td><td><a href="' + url + '">' + esc(s.run_id) + "</a></td><td>" +
        esc((s.playbook || "").split("/").pop()) + "</td><td>" + esc(new Date((s.started_at || 0) * 1000).toLocaleString()) +
        "</td><td>" + esc(s.user || "") + "</td><td>" + bar(s) + " " + done(s) + "/" + (s.hosts_expected || 0) +
        '</td><td class="num">' + (s.hosts_ok || 0) + '</td><td class="num">' + (s.hosts_changed || 0) +
        '</td><td class="num">' + (s.hosts_failed || 0) + '</td><td class="num">' + (s.hosts_unreachable || 0) + "</td></tr>";
    }).join("");
    document.getElementById("runs-body").innerHTML = html || '<tr><td colspan="10" class="muted">no runs in Redis</td></tr>';
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  }
  function refresh() {
    fetch(base + "/api/runs", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
      .then(function (d) { render(d.runs); })
      .catch(function (e) { document.getElementById("updated").textContent = "error: " + e.message; })
      .then(function () { setTimeout(refresh, 2000); });
  }
  refresh();
})();
