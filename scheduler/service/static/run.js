// Live progress of a queued or running solve: server-sent events until the run ends, then the
// page reloads to show the roster.
(function () {
  var box = document.getElementById("state");
  if (!box || !window.EventSource) return;
  var events = new EventSource("/api/runs/" + box.dataset.run + "/events");
  var fmt = function (x) { return x == null ? "" : Math.round(x).toLocaleString("en"); };
  events.onmessage = function (e) {
    var s = JSON.parse(e.data);
    if (!s) { events.close(); return; }
    var status = document.getElementById("status");
    status.textContent = s.status;
    status.className = "status " + s.status;
    var p = s.progress || {};
    var parts = [p.stage || ""];
    if (p.time != null) parts.push(p.time.toFixed(1) + " s");
    if (p.coverage_cost != null) parts.push("people missing " + fmt(p.coverage_cost));
    if (p.objective != null) parts.push("score " + fmt(p.objective));
    if (p.bound != null) parts.push("bound " + fmt(p.bound));
    if (p.gap != null) parts.push("gap " + (100 * p.gap).toFixed(1) + " %");
    document.getElementById("progress").textContent = parts.join(" · ");
    if (["done", "cancelled", "failed"].indexOf(s.status) >= 0) { events.close(); window.location.reload(); }
  };
})();
