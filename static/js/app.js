// mofsim page behaviour on top of htmx + htmx-ext-ws. The server pushes rendered fragments
// marked hx-swap-oob; htmx swaps them by id. This file only does what htmx cannot:
//  * draw the live metric chart (initial points from the page, new points from the
//    `data-point` of each #task-progress fragment swapped in),
//  * prepend rows for objects the page has not seen yet (a new task, a new node): an OOB swap
//    whose id is missing fires htmx:oobErrorNoTarget, and we insert the row instead,
//  * keep the log scrolled and free of duplicates (websocket and poll fallback may overlap),
//  * show whether the live connection is up (body[data-live]).
(function () {
  "use strict";

  // ---- metric chart -------------------------------------------------------------------------
  // Axis titles carry the unit of each metric the executors report (tasks_app/executors).
  const COLOURS = { energy: "#2557a7", fmax: "#c2410c", loss: "#7c3aed", temperature: "#b91c1c", volume: "#047857", pressure_gpa: "#7c3aed" };
  const TITLES = {
    energy: "energy (eV)", fmax: "fmax (eV/Å)", volume: "volume (Å³)", temperature: "temperature (K)",
    pressure_gpa: "pressure (GPa)", kinetic_energy: "kinetic energy (eV)", loss: "loss", displaced_cells: "displaced cells",
  };
  const BANDS = ["rgba(37, 87, 167, .07)", "rgba(237, 174, 73, .12)"];

  function stageRuns(points) {
    // Contiguous stretches of one stage (opt, nvt, npt_300K, …): shaded and named on the chart.
    const runs = [];
    points.forEach(function (p) {
      const stage = p.data.stage;
      if (!stage) return;
      const last = runs[runs.length - 1];
      if (last && last.stage === stage) last.end = p.step; else runs.push({ stage: stage, start: p.step, end: p.step });
    });
    return runs.length > 1 ? runs : [];
  }

  function drawChart(canvas, points, key) {
    const ctx = canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(cssW * ratio)) { canvas.width = Math.round(cssW * ratio); canvas.height = Math.round(cssH * ratio); }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const xs = [], ys = [];
    points.forEach(function (p) { const v = p.data[key]; if (typeof v === "number") { xs.push(p.step); ys.push(v); } });
    ctx.fillStyle = "#667"; ctx.font = "12px system-ui, sans-serif";
    if (ys.length === 0) { ctx.fillText("no metric points yet", 12, 22); return; }
    const padL = 92, padR = 14, padT = 18, padB = 40, w = cssW - padL - padR, h = cssH - padT - padB;
    const xmin = Math.min.apply(null, xs), xmax = Math.max.apply(null, xs);
    const ymin = Math.min.apply(null, ys), ymax = Math.max.apply(null, ys);
    const sx = function (x) { return padL + (xmax === xmin ? 0.5 : (x - xmin) / (xmax - xmin)) * w; };
    const sy = function (y) { return padT + h - (ymax === ymin ? 0.5 : (y - ymin) / (ymax - ymin)) * h; };
    stageRuns(points).forEach(function (run, i) {
      const a = Math.max(sx(run.start), padL), b = Math.min(sx(run.end), padL + w);
      ctx.fillStyle = BANDS[i % 2]; ctx.fillRect(a, padT, Math.max(b - a, 1), h);
      ctx.fillStyle = "#556"; ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText(run.stage, (a + b) / 2, padT - 5);
    });
    ctx.fillStyle = "#667"; ctx.font = "12px system-ui, sans-serif";
    ctx.strokeStyle = "#d5d9e0"; ctx.lineWidth = 1; ctx.strokeRect(padL, padT, w, h);
    ctx.textAlign = "right";
    ctx.fillText(ymax.toPrecision(6), padL - 6, padT + 4);
    ctx.fillText(ymin.toPrecision(6), padL - 6, padT + h);
    ctx.textAlign = "left"; ctx.fillText(String(xmin), padL, padT + h + 14);
    ctx.textAlign = "right"; ctx.fillText(String(xmax), padL + w, padT + h + 14);
    ctx.textAlign = "center"; ctx.fillText("step", padL + w / 2, padT + h + 32);
    ctx.save(); ctx.translate(14, padT + h / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(TITLES[key] || key, 0, 0); ctx.restore();
    canvas.dataset.yTitle = TITLES[key] || key;
    ctx.strokeStyle = COLOURS[key] || "#2557a7"; ctx.lineWidth = 2; ctx.beginPath();
    xs.forEach(function (x, i) { if (i === 0) ctx.moveTo(sx(x), sy(ys[i])); else ctx.lineTo(sx(x), sy(ys[i])); });
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath(); ctx.arc(sx(xs[xs.length - 1]), sy(ys[ys.length - 1]), 3, 0, 2 * Math.PI); ctx.fill();
  }

  function initChart() {
    const canvas = document.getElementById("metric-chart");
    const source = document.getElementById("metric-points");
    const select = document.getElementById("metric-key");
    if (!canvas || !source) return;
    const points = JSON.parse(source.textContent);
    let lastStep = points.length ? points[points.length - 1].step : null;

    function keys() {
      const seen = [];
      points.forEach(function (p) { Object.keys(p.data).forEach(function (k) { if (typeof p.data[k] === "number" && seen.indexOf(k) < 0) seen.push(k); }); });
      return seen;
    }
    function refreshSelect() {
      if (!select) return;
      const ks = keys();
      if (ks.length === select.options.length) return;
      const chosen = select.value;
      select.innerHTML = "";
      ks.forEach(function (k) { const o = document.createElement("option"); o.value = k; o.textContent = TITLES[k] || k; select.appendChild(o); });
      const preferred = ["loss", "energy", "temperature"].find(function (k) { return ks.indexOf(k) >= 0; });
      select.value = ks.indexOf(chosen) >= 0 ? chosen : (preferred || ks[0] || "");
    }
    function redraw() { refreshSelect(); drawChart(canvas, points, select && select.value ? select.value : "energy"); }

    // The event's detail.target is the element that was replaced, so read the live one by id.
    document.body.addEventListener("htmx:oobAfterSwap", function () {
      const el = document.getElementById("task-progress");
      if (!el || !el.dataset.point) return;
      const point = JSON.parse(el.dataset.point);
      if (point.step === lastStep) return;  // same fragment seen twice (several swapped elements)
      lastStep = point.step;
      points.push(point);
      redraw();
    });
    if (select) select.addEventListener("change", redraw);
    window.addEventListener("resize", redraw);
    redraw();
  }

  // ---- rows for objects the page has not seen ------------------------------------------------
  document.addEventListener("htmx:oobErrorNoTarget", function (evt) {
    const el = evt.detail.content;
    if (!el || el.tagName !== "TR" || !el.id) return;
    // Only a table that opted in (unfiltered first page) takes rows of its own kind.
    const body = document.querySelector("tbody[data-live-insert]");
    if (!body || el.id.indexOf(body.dataset.liveInsert) !== 0) return;
    if (document.getElementById(el.id)) return;
    el.removeAttribute("hx-swap-oob");
    const empty = body.querySelector(".empty-row");
    if (empty) empty.remove();
    body.insertBefore(el, body.firstChild);
    htmx.process(el);
  });

  // ---- log lines ---------------------------------------------------------------------------
  function lastLogId() {
    const lines = document.querySelectorAll("#log-lines .log-line[data-id]");
    let max = 0;
    lines.forEach(function (l) { const id = parseInt(l.dataset.id, 10); if (id > max) max = id; });
    return max;
  }
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    const log = document.getElementById("log-lines");
    if (!log || evt.detail.target !== log) return;
    const seen = {};
    log.querySelectorAll(".log-line[data-id]").forEach(function (l) {
      if (seen[l.dataset.id]) l.remove(); else seen[l.dataset.id] = true;
    });
    log.scrollTop = log.scrollHeight;
  });

  // ---- searchable selects ------------------------------------------------------------------
  // <input data-filter-select="id_of_select">: hide the options whose text lacks every typed word
  // (a few hundred structures are too many to scroll); the first match is selected.
  document.addEventListener("input", function (evt) {
    const box = evt.target;
    if (!box.dataset || !box.dataset.filterSelect) return;
    const select = document.getElementById(box.dataset.filterSelect);
    if (!select) return;
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    let first = null, shown = 0;
    Array.from(select.options).forEach(function (o) {
      const hit = !o.value || words.every(function (w) { return o.text.toLowerCase().indexOf(w) >= 0; });
      o.hidden = !hit;
      if (hit && o.value) { shown += 1; if (!first) first = o; }
    });
    if (first && select.selectedOptions.length && select.selectedOptions[0].hidden) {
      select.value = first.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    box.title = shown + " match" + (shown === 1 ? "" : "es");
  });

  // ---- connection indicator ----------------------------------------------------------------
  document.addEventListener("htmx:wsOpen", function () { document.body.dataset.live = "open"; });
  document.addEventListener("htmx:wsClose", function () { document.body.dataset.live = "closed"; });

  window.mofsim = { lastLogId: lastLogId };
  document.addEventListener("DOMContentLoaded", function () {
    initChart();
    const log = document.getElementById("log-lines");
    if (log) log.scrollTop = log.scrollHeight;
  });
})();
