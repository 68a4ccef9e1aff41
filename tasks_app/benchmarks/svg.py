"""Parity plots and histograms as inline SVG, drawn on the server.

No charting library and no CDN (the platform runs offline): the report page embeds the markup
directly, and it updates with the HTMX-polled fragment. All text is escaped here; callers mark
the returned string safe. Axes, ticks and the line chart are shared plumbing (``mofsim_site.svgplot``).
"""

from html import escape

from mofsim_site.svgplot import MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, PALETTE, frame, limits, nice_ticks


def parity_svg(series, xlabel: str, ylabel: str, band_pct: float | None = None, size: int = 320) -> str:
    """Predicted (y) against reference (x) with the y = x line and an optional ±band_pct band.

    ``series`` is a list of ``(label, points)``, each point ``(x, y, name)``; one colour per
    series, a legend when there is more than one. Returns "" when there is nothing to plot.
    """
    series = [(label, [p for p in points if p[0] is not None and p[1] is not None]) for label, points in series]
    values = [v for _, points in series for x, y, _ in points for v in (x, y)]
    if not values:
        return ""
    lo, hi = limits(values)
    width = height = size
    x0, x1 = MARGIN_LEFT, width - MARGIN_RIGHT
    y0, y1 = height - MARGIN_BOTTOM, MARGIN_TOP

    def sx(v):
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    def sy(v):
        return y0 - (v - lo) / (hi - lo) * (y0 - y1)

    ticks = nice_ticks(lo, hi)
    parts = frame(width, height, xlabel, ylabel, ticks, ticks, sx, sy, f"{ylabel} against {xlabel}")
    parts.append(f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi):.1f}" stroke="#555"/>')
    if band_pct:
        for factor in (1 + band_pct / 100, 1 - band_pct / 100):
            parts.append(
                f'<line x1="{sx(lo):.1f}" y1="{sy(lo * factor):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi * factor):.1f}" '
                'stroke="#aaa" stroke-dasharray="4 3"/>'
            )
    for i, (label, points) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        for x, y, name in points:
            tip = f"{label + ': ' if len(series) > 1 else ''}{name}: {xlabel} {x:.4g}, {ylabel} {y:.4g}"
            parts.append(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{colour}" fill-opacity="0.75">'
                f"<title>{escape(tip)}</title></circle>"
            )
    if len(series) > 1:
        for i, (label, _) in enumerate(series):
            y = y1 + 12 + 14 * i
            parts.append(f'<circle cx="{x0 + 10}" cy="{y - 3}" r="4" fill="{PALETTE[i % len(PALETTE)]}"/>')
            parts.append(f'<text x="{x0 + 18}" y="{y}" font-size="10">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(values, xlabel: str, bins: int = 12, width: int = 360, height: int = 240) -> str:
    """Counts of ``values`` in equal-width bins; "" when there are no values."""
    values = [v for v in values if v is not None]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
        bins = 1
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / step))] += 1
    top = max(counts)
    x0, x1 = MARGIN_LEFT, width - MARGIN_RIGHT
    y0, y1 = height - MARGIN_BOTTOM, MARGIN_TOP

    def sx(v):
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    def sy(c):
        return y0 - c / top * (y0 - y1)

    yticks = [t for t in nice_ticks(0, top, min(top, 5)) if float(t).is_integer()]
    parts = frame(width, height, xlabel, "structures", nice_ticks(lo, hi), yticks, sx, sy, f"histogram of {xlabel}")
    for i, count in enumerate(counts):
        if not count:
            continue
        left, right = lo + i * step, lo + (i + 1) * step
        parts.append(
            f'<rect x="{sx(left) + 1:.1f}" y="{sy(count):.1f}" width="{max(sx(right) - sx(left) - 2, 1):.1f}" '
            f'height="{y0 - sy(count):.1f}" fill="{PALETTE[0]}" fill-opacity="0.8">'
            f"<title>{left:.3g} to {right:.3g}: {count}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


PARITY = [
    # (title, reference key, predicted key, axis label, ±band in %)
    ("Volume", "dft_volume_a3", "volume_final_a3", "volume (Å³)", 10.0),
    ("Bulk modulus", "dft_b0_gpa", "b0_gpa", "B0 (GPa)", None),
    ("Heat capacity", "dft_cv300_j_per_g_k", "cv300_j_per_g_k", "Cv 300 K (J/g/K)", None),
]


def report_plots(named_rows) -> list[dict]:
    """Parity plots (predicted vs DFT) for every quantity with data, and the ΔV histogram.

    ``named_rows`` is a list of ``(series label, rows)`` — one entry for a report, several for a
    comparison. Unstable EOS fits are left out of the B0 plot, as they are out of the MAE.
    """
    plots = []
    for title, ref_key, pred_key, label, band in PARITY:
        series = [
            (
                name,
                [
                    (r[ref_key], r[pred_key], r["structure"])
                    for r in rows
                    if not (pred_key == "b0_gpa" and r["eos_stable"] is False)
                ],
            )
            for name, rows in named_rows
        ]
        markup = parity_svg(series, f"DFT {label}", f"predicted {label}", band_pct=band)
        if markup:
            plots.append({"title": f"{title}: predicted vs DFT", "svg": markup})
    if len(named_rows) == 1:
        changes = [r["volume_change_pct"] for r in named_rows[0][1]]
        markup = histogram_svg(changes, "volume change vs input (%)")
        if markup:
            plots.append({"title": "Volume change vs input", "svg": markup})
    return plots
