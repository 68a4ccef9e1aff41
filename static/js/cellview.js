// A small 3D view of a structure's cell, drawn on a <canvas> with no library (works offline).
// Data: a json_script element {positions, colours, radii, symbols, cell}; the canvas names it in
// data-source. Drag to rotate, wheel to zoom; atoms are painted back to front with a little shade.
(function () {
  "use strict";

  function rotate(p, a, b) {  // about y by a, then about x by b
    const x = p[0] * Math.cos(a) + p[2] * Math.sin(a), z = -p[0] * Math.sin(a) + p[2] * Math.cos(a);
    return [x, p[1] * Math.cos(b) - z * Math.sin(b), p[1] * Math.sin(b) + z * Math.cos(b)];
  }

  function edges(cell) {
    const corners = [];
    for (let i = 0; i < 8; i++) {
      const f = [i & 1, (i >> 1) & 1, (i >> 2) & 1];
      corners.push([0, 1, 2].map(function (k) { return f[0] * cell[0][k] + f[1] * cell[1][k] + f[2] * cell[2][k]; }));
    }
    const out = [];
    for (let i = 0; i < 8; i++) for (let bit = 0; bit < 3; bit++) if (!(i & (1 << bit))) out.push([corners[i], corners[i | (1 << bit)]]);
    return out;
  }

  function init(canvas) {
    const data = JSON.parse(document.getElementById(canvas.dataset.source).textContent);
    const lines = data.cell ? edges(data.cell) : [];
    const all = data.positions.concat(lines.map(function (l) { return l[0]; }));
    const centre = [0, 1, 2].map(function (k) { return all.reduce(function (s, p) { return s + p[k]; }, 0) / all.length; });
    const span = Math.max.apply(null, all.map(function (p) { return Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]); })) || 1;
    let a = 0.6, b = 0.35, zoom = 1, drag = null;
    const ctx = canvas.getContext("2d");

    function draw() {
      const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const scale = zoom * 0.45 * Math.min(w, h) / span;
      const project = function (p) {
        const r = rotate([p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]], a, b);
        return [w / 2 + r[0] * scale, h / 2 - r[1] * scale, r[2]];
      };
      ctx.strokeStyle = "#8a94a6"; ctx.lineWidth = 1;
      lines.forEach(function (l) {
        const p = project(l[0]), q = project(l[1]);
        ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
      });
      const atoms = data.positions.map(function (p, i) { return [project(p), i]; });
      atoms.sort(function (u, v) { return u[0][2] - v[0][2]; });
      atoms.forEach(function (entry) {
        const p = entry[0], i = entry[1], r = Math.max(2, data.radii[i] * 0.5 * scale);
        const g = ctx.createRadialGradient(p[0] - r / 3, p[1] - r / 3, r / 5, p[0], p[1], r);
        g.addColorStop(0, "#ffffff"); g.addColorStop(0.35, data.colours[i]); g.addColorStop(1, "#333");
        ctx.fillStyle = g; ctx.beginPath(); ctx.arc(p[0], p[1], r, 0, 2 * Math.PI); ctx.fill();
      });
      canvas.dataset.drawn = String(atoms.length);
    }

    canvas.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointerup", function () { drag = null; });
    canvas.addEventListener("pointermove", function (e) {
      if (!drag) return;
      a += (e.clientX - drag[0]) * 0.01; b += (e.clientY - drag[1]) * 0.01; drag = [e.clientX, e.clientY]; draw();
    });
    canvas.addEventListener("wheel", function (e) { e.preventDefault(); zoom *= e.deltaY < 0 ? 1.1 : 0.9; draw(); }, { passive: false });
    window.addEventListener("resize", draw);
    draw();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-cellview]").forEach(init);
  });
})();
