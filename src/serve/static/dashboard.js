// llm-loadtest dashboard: a running run's progress, live over its WebSocket. Text only
// (textContent), never markup; the page reloads once the run has ended, to show its report.
"use strict";

(function () {
  const live = document.getElementById("live");
  if (!live) {
    return;
  }
  const id = live.dataset.runId;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const path = "/api/v1/benchmark/ws/run/" + encodeURIComponent(id);
  const set = (element, text) => {
    const node = document.getElementById(element);
    if (node) {
      node.textContent = text;
    }
  };
  const number = (value, digits) => (typeof value === "number" ? value.toFixed(digits) : "–");

  function show(view) {
    const p = view.progress;
    set("run-status", view.status);
    document.getElementById("run-status").className = "status status-" + view.status;
    set("live-points-done", String(p.points_done));
    set("live-points-total", String(p.points_total));
    set("live-point", p.point || "–");
    set("live-requests", String(p.requests_done));
    set("live-errors", String(p.errors));
    set("live-throughput", number(p.output_tokens_per_s, 1));
    set("live-ttft", number(p.ttft_p50_ms, 1));
    const bar = document.getElementById("live-bar");
    bar.max = Math.max(p.points_total, 1);
    bar.value = p.points_done;
    live.dataset.updates = String(Number(live.dataset.updates) + 1);
  }

  // After this many lost connections in a row, the page reloads: the run may have ended
  // or been deleted while the dashboard restarted.
  const attempts = 5;
  let lost = 0;

  function connect() {
    const socket = new WebSocket(scheme + "//" + location.host + path);
    let ended = false;
    socket.addEventListener("open", () => {
      lost = 0;
    });
    socket.addEventListener("message", (event) => {
      const view = JSON.parse(event.data);
      show(view);
      if (!["queued", "running"].includes(view.status)) {
        ended = true;
        set("live-note", "The run has ended: loading its report.");
        setTimeout(() => location.reload(), 500);
      }
    });
    socket.addEventListener("close", () => {
      if (ended) {
        return;
      }
      lost += 1;
      if (lost >= attempts) {
        location.reload();
        return;
      }
      set("live-note", "Connection lost: reconnecting.");
      setTimeout(connect, 2000);
    });
  }
  connect();
})();
