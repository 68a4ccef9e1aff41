// mofsim page behaviour on top of htmx + htmx-ext-ws. The server pushes rendered fragments
// marked hx-swap-oob; htmx swaps them by id. This file only does what htmx cannot:
//  * draw the live metric chart (initial points from the page, new points from the
//    `data-point` of each #task-progress fragment swapped in), related metrics overlaid on two
//    axes or stacked in panels with the MD stages shaded,
//  * prepend rows for objects the page has not seen yet (a new task, a new node): an OOB swap
//    whose id is missing fires htmx:oobErrorNoTarget, and we insert the row instead,
//  * keep the log scrolled and free of duplicates (websocket and poll fallback may overlap),
//  * show whether the live connection is up (body[data-live]).
(function () {
  "use strict";

  // ---- metric chart -------------------------------------------------------------------------
  // Axis titles carry the unit of each metric the executors report (tasks_app/executors).
  // A "view" is what the chart shows at once: metrics that belong together are overlaid on two
  // y axes (relaxation energy and fmax, fmax on a log scale) or stacked as panels sharing the
  // step axis (MD temperature, pressure and volume, every stage shaded and named); each metric
  // also has a view of its own. The server-side charts of the finished result
  // (tasks_app/results/charts.py) show the same pairs.
  const COLOURS = { energy: "#2557a7", fmax: "#c2410c", loss: "#7c3aed", temperature: "#b91c1c", volume: "#047857", pressure_gpa: "#7c3aed" };
  const TITLES = {
    energy: "energy (eV)", fmax: "fmax (eV/Å)", volume: "volume (Å³)", temperature: "temperature (K)",
    pressure_gpa: "pressure (GPa)", kinetic_energy: "kinetic energy (eV)", loss: "loss", displaced_cells: "displaced cells",
  };
  const BANDS = ["rgba(37, 87, 167, .07)", "rgba(237, 174, 73, .12)"];
  const MD_KEYS = ["temperature", "pressure_gpa", "volume"];

  function title(key, log) { return (TITLES[key] || key).replace(/\)$/, log ? ", log scale)" : ")"); }

  function views(keys) {
    const out = [];
    const md = MD_KEYS.filter(function (k) { return keys.indexOf(k) >= 0; });
    if (keys.indexOf("temperature") >= 0 && md.length > 1) {
      out.push({ id: "md", label: "MD: " + md.map(function (k) { return (TITLES[k] || k).split(" (")[0]; }).join(", "),
                 panels: md.map(function (k) { return { left: k }; }) });
    }
    if (keys.indexOf("energy") >= 0 && keys.indexOf("fmax") >= 0) {
      out.push({ id: "relax", label: "energy and fmax", panels: [{ left: "energy", right: "fmax", rightLog: true }] });
    }
    keys.forEach(function (k) { out.push({ id: k, label: TITLES[k] || k, panels: [{ left: k }] }); });
    return out;
  }

  function niceTicks(lo, hi, count) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    // As mofsim_site.svgplot.nice_ticks: 1, 2, 5 × 10^k steps, one finer step when fewer than three.
    const raw = span / (count || 5), power = Math.pow(10, Math.floor(Math.log10(raw)));
    const candidates = [0.5, 1, 2, 5, 10].map(function (m) { return m * power; });
    const at = function (step) {
      const ticks = [];
      for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-6 ? 0 : v);
      return ticks;
    };
    const i = candidates.findIndex(function (v) { return v >= raw; });
    const ticks = at(candidates[i]);
    return ticks.length < 3 && i > 0 ? at(candidates[i - 1]) : ticks;
  }

  function tickText(ticks) {
    // As many decimals as the step needs (as mofsim_site.svgplot.tick_labels), so neighbours differ.
    if (ticks.length < 2) return ticks.map(function (t) { return String(+t.toPrecision(4)); });
    const step = Math.abs(ticks[1] - ticks[0]), decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    const big = Math.max.apply(null, ticks.map(Math.abs));
    return ticks.map(function (t) { return big >= 1e6 || decimals > 6 ? t.toPrecision(3) : t.toFixed(decimals); });
  }

  function seriesOf(points, key, log) {
    const out = [];
    points.forEach(function (p) { const v = p.data[key]; if (typeof v === "number" && isFinite(v) && (!log || v > 0)) out.push([p.step, v]); });
    return out;
  }

  function yScale(values, top, height, log) {
    let lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (log) { lo = Math.log10(lo) - 0.15; hi = Math.log10(hi) + 0.15; }
    else if (hi === lo) { const pad = Math.abs(lo) * 0.05 || 1; lo -= pad; hi += pad; }
    else { const pad = (hi - lo) * 0.06; lo -= pad; hi += pad; }
    const f = function (v) { return top + height - ((log ? Math.log10(v) : v) - lo) / (hi - lo) * height; };
    let ticks;
    if (log) { ticks = []; for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) ticks.push(Math.pow(10, k)); }
    else ticks = niceTicks(lo, hi, height < 110 ? 3 : 5);
    const labels = log ? ticks.map(function (t) { return t.toExponential(0).replace("e+", "e"); }) : tickText(ticks);
    return { f: f, ticks: ticks, labels: labels };
  }

  function drawChart(canvas, points, view) {
    const ctx = canvas.getContext("2d");
    const ratio = window.devicePixelRatio || 1;
    const n = view.panels.length, twoAxes = view.panels.some(function (p) { return p.right; });
    const padL = 78, padR = twoAxes ? 74 : 16, padT = 20, padB = 40, gap = 12;
    const ph = n > 1 ? 118 : 180;
    const cssH = padT + n * ph + (n - 1) * gap + padB;
    canvas.style.height = cssH + "px";
    const cssW = canvas.clientWidth || canvas.width;
    if (canvas.width !== Math.round(cssW * ratio) || canvas.height !== Math.round(cssH * ratio)) {
      canvas.width = Math.round(cssW * ratio); canvas.height = Math.round(cssH * ratio);
    }
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const w = cssW - padL - padR;
    const drawn = view.panels.map(function (p) {
      return { spec: p, left: seriesOf(points, p.left, false), right: p.right ? seriesOf(points, p.right, p.rightLog) : [] };
    });
    const xs = [];
    drawn.forEach(function (d) { d.left.concat(d.right).forEach(function (pt) { xs.push(pt[0]); }); });
    ctx.fillStyle = "#667"; ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "left";
    const titles = [];
    if (xs.length === 0) { ctx.fillText("no metric points yet", 12, 22); canvas.dataset.titles = "[]"; return; }
    const xmin = Math.min.apply(null, xs), xmax = Math.max.apply(null, xs);
    const sx = function (x) { return padL + (xmax === xmin ? 0.5 : (x - xmin) / (xmax - xmin)) * w; };
    const runs = stageRuns(points);
    function line(series, sy, colour) {
      ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath();
      series.forEach(function (pt, i) { if (i === 0) ctx.moveTo(sx(pt[0]), sy(pt[1])); else ctx.lineTo(sx(pt[0]), sy(pt[1])); });
      ctx.stroke();
      const last = series[series.length - 1];
      ctx.fillStyle = colour; ctx.beginPath(); ctx.arc(sx(last[0]), sy(last[1]), 3, 0, 2 * Math.PI); ctx.fill();
    }
    function axisTitle(text, x, y, angle, colour) {
      ctx.save(); ctx.translate(x, y); ctx.rotate(angle); ctx.fillStyle = colour; ctx.font = "12px system-ui, sans-serif";
      ctx.textAlign = "center"; ctx.fillText(text, 0, 0); ctx.restore(); titles.push(text);
    }
    drawn.forEach(function (d, i) {
      const top = padT + i * (ph + gap);
      runs.forEach(function (run, j) {
        const a = Math.max(sx(run.start), padL), b = Math.min(sx(run.end), padL + w);
        ctx.fillStyle = BANDS[j % 2]; ctx.fillRect(a, top, Math.max(b - a, 1), ph);
        if (i === 0) { ctx.fillStyle = "#556"; ctx.font = "10px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillText(run.stage, (a + b) / 2, padT - 6); }
      });
      ctx.strokeStyle = "#d5d9e0"; ctx.lineWidth = 1; ctx.strokeRect(padL, top, w, ph);
      ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#667";
      const leftColour = COLOURS[d.spec.left] || "#2557a7";
      if (d.left.length) {
        const ys = yScale(d.left.map(function (pt) { return pt[1]; }), top, ph, false);
        ctx.textAlign = "right";
        ys.ticks.forEach(function (t, k) { const y = ys.f(t); ctx.fillStyle = "#667"; ctx.fillText(ys.labels[k], padL - 5, y + 4); ctx.fillRect(padL - 3, y, 3, 1); });
        line(d.left, ys.f, leftColour);
      }
      axisTitle(title(d.spec.left, false), 13, top + ph / 2, -Math.PI / 2, twoAxes ? leftColour : "#445");
      if (d.spec.right) {
        const rightColour = COLOURS[d.spec.right] || "#c2410c";
        if (d.right.length) {
          const ys = yScale(d.right.map(function (pt) { return pt[1]; }), top, ph, d.spec.rightLog);
          ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "left";
          ys.ticks.forEach(function (t, k) { const y = ys.f(t); ctx.fillStyle = "#667"; ctx.fillText(ys.labels[k], padL + w + 5, y + 4); ctx.fillRect(padL + w, y, 3, 1); });
          line(d.right, ys.f, rightColour);
        }
        axisTitle(title(d.spec.right, d.spec.rightLog), cssW - 10, top + ph / 2, Math.PI / 2, rightColour);
      }
    });
    const bottom = padT + n * ph + (n - 1) * gap;
    const xt = niceTicks(xmin, xmax, Math.max(2, Math.floor(w / 90)));
    const xl = tickText(xt);
    ctx.fillStyle = "#667"; ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "center";
    xt.forEach(function (t, k) { ctx.fillText(xl[k], sx(t), bottom + 14); ctx.fillRect(sx(t), bottom, 1, 3); });
    axisTitle(runs.length ? "step (all stages)" : "step", padL + w / 2, bottom + 32, 0, "#445");
    canvas.dataset.yTitle = titles[0];
    canvas.dataset.y2Title = drawn[0].spec.right ? title(drawn[0].spec.right, drawn[0].spec.rightLog) : "";
    canvas.dataset.view = view.id;
    canvas.dataset.panels = String(n);
    canvas.dataset.titles = JSON.stringify(titles);
    canvas.dataset.stages = JSON.stringify(runs.map(function (r) { return r.stage; }));
  }

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

  function initChart() {
    const canvas = document.getElementById("metric-chart");
    const source = document.getElementById("metric-points");
    const select = document.getElementById("metric-key");
    if (!canvas || !source) return;
    const points = JSON.parse(source.textContent);
    let lastStep = points.length ? points[points.length - 1].step : null;
    let lastPush = null, available = [];

    function keys() {
      const seen = [];
      points.forEach(function (p) { Object.keys(p.data).forEach(function (k) { if (typeof p.data[k] === "number" && seen.indexOf(k) < 0) seen.push(k); }); });
      return seen;
    }
    function refreshSelect() {
      const vs = views(keys());
      if (select && vs.map(function (v) { return v.id; }).join() !== available.map(function (v) { return v.id; }).join()) {
        const chosen = select.value;
        select.innerHTML = "";
        vs.forEach(function (v) { const o = document.createElement("option"); o.value = v.id; o.textContent = v.label; select.appendChild(o); });
        const ids = vs.map(function (v) { return v.id; });
        // Overlays first: a live MD run opens on its stacked panels, a relaxation on energy + fmax.
        const preferred = ["loss", "md", "relax", "energy", "temperature"].find(function (k) { return ids.indexOf(k) >= 0; });
        select.value = ids.indexOf(chosen) >= 0 && select.dataset.touched ? chosen : (preferred || ids[0] || "");
      }
      available = vs;
    }
    function redraw() {
      refreshSelect();
      const id = select && select.value;
      const view = available.find(function (v) { return v.id === id; }) || available[0] || { id: "energy", panels: [{ left: "energy" }] };
      drawChart(canvas, points, view);
      canvas.dataset.count = String(points.length);
    }

    // The event's detail.target is the element that was replaced, so read the live one by id.
    document.body.addEventListener("htmx:oobAfterSwap", function () {
      const el = document.getElementById("task-progress");
      if (!el || !el.dataset.point) return;
      // Every point written since the last push (data-points), or the one latest (data-point).
      const raw = el.dataset.points || el.dataset.point;
      if (raw === lastPush) return;  // same fragment seen twice (several swapped elements)
      lastPush = raw;
      const batch = el.dataset.points ? JSON.parse(raw) : [JSON.parse(raw)];
      batch.forEach(function (p) { if (p.step !== lastStep) points.push(p); });
      lastStep = batch[batch.length - 1].step;
      redraw();
    });
    if (select) select.addEventListener("change", function () { select.dataset.touched = "1"; redraw(); });
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
