// Live metric chart on the task page: initial points from the page, new points from the
// progress fragments the websocket swaps in (out-of-band). No external charting library.
(function () {
  "use strict";
  function drawChart(canvas, points, key) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const xs = [], ys = [];
    points.forEach(function (p) { const v = p.data[key]; if (typeof v === "number") { xs.push(p.step); ys.push(v); } });
    if (ys.length < 2) return;
    const pad = 36, w = canvas.width - 2 * pad, h = canvas.height - 2 * pad;
    const xmin = Math.min.apply(null, xs), xmax = Math.max.apply(null, xs);
    const ymin = Math.min.apply(null, ys), ymax = Math.max.apply(null, ys);
    const sx = function (x) { return pad + (xmax === xmin ? 0 : (x - xmin) / (xmax - xmin)) * w; };
    const sy = function (y) { return pad + h - (ymax === ymin ? 0.5 : (y - ymin) / (ymax - ymin)) * h; };
    ctx.strokeStyle = "#999"; ctx.strokeRect(pad, pad, w, h);
    ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
    ctx.fillText(key + "  " + ymax.toPrecision(6), pad + 4, pad - 6);
    ctx.fillText(ymin.toPrecision(6), pad + 4, pad + h + 14);
    ctx.strokeStyle = "#2557a7"; ctx.beginPath();
    xs.forEach(function (x, i) { if (i === 0) ctx.moveTo(sx(x), sy(ys[i])); else ctx.lineTo(sx(x), sy(ys[i])); });
    ctx.stroke();
  }
  function init() {
    const canvas = document.getElementById("metric-chart");
    const source = document.getElementById("metric-points");
    if (!canvas || !source) return;
    const points = JSON.parse(source.textContent);
    const key = function () { return points.length && points[points.length - 1].data.loss !== undefined ? "loss" : "energy"; };
    drawChart(canvas, points, key());
    document.body.addEventListener("htmx:oobAfterSwap", function (evt) {
      const el = evt.detail.target;
      if (!el || el.id !== "task-progress" || !el.dataset.point) return;
      points.push(JSON.parse(el.dataset.point));
      drawChart(canvas, points, key());
    });
  }
  document.addEventListener("DOMContentLoaded", init);
})();
