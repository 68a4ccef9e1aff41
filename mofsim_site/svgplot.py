"""Charts as inline SVG drawn on the server: axes with titles and units, ticks, line charts.

No charting library and no CDN (the platform runs offline). Pages embed the markup directly, so
a chart refreshes with the HTMX fragment it sits in and can be saved with the page. All text is
escaped here; callers mark the returned string safe. Shared by the task result views
(``tasks_app.results``) and the benchmark report (``tasks_app.benchmarks.svg``).
"""

import math
from dataclasses import dataclass, field
from html import escape

PALETTE = ["#2557a7", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d5a97"]
BAND_FILLS = ["#eef2f9", "#fdf3e7"]
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_RIGHT = 58, 42, 14, 14
MARGIN_RIGHT_AXIS = 62


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]; at least three when the span
    is just over a round step (0 and 0.05 alone leave a small panel without a scale)."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    candidates = [m * power for m in (0.5, 1, 2, 5, 10)]
    step = next(s for s in candidates if s >= raw)
    ticks = _ticks_at(lo, hi, step)
    finer = [s for s in candidates if s < step]
    return _ticks_at(lo, hi, finer[-1]) if len(ticks) < 3 and finer else ticks


def _ticks_at(lo: float, hi: float, step: float) -> list[float]:
    first = math.ceil(lo / step) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def tick_label(value: float) -> str:
    return f"{value:.4g}"


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels with as many decimals as the tick step needs, so neighbours never read the same
    (four significant digits turn -1234.50 and -1234.48 eV, or 16 800 and 16 900 Å³, into
    look-alikes). Very large or tiny values fall back to three significant digits."""
    if len(ticks) < 2:
        return [tick_label(t) for t in ticks]
    step = abs(ticks[1] - ticks[0])
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    biggest = max(abs(t) for t in ticks)
    if biggest >= 1e6 or decimals > 6:
        return [f"{t:.3g}" for t in ticks]
    cleaned = [0.0 if abs(t) < step * 1e-6 else t for t in ticks]  # no "-0.00" from round-off
    return [f"{t:.{decimals}f}" for t in cleaned]


def limits(values) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = (abs(lo) * 0.05 or 1.0) if hi == lo else (hi - lo) * 0.06
    return lo - pad, hi + pad


def frame(
    width, height, xlabel, ylabel, xticks, yticks, sx, sy, label, right=MARGIN_RIGHT, top=MARGIN_TOP
) -> list[str]:
    """The open ``<svg>``, the plot area, ticks and both axis titles (close it with ``</svg>``)."""
    x0, x1 = MARGIN_LEFT, width - right
    y0, y1 = height - MARGIN_BOTTOM, top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">',
        f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="#fff" stroke="#999"/>',
    ]
    for t, text in zip(xticks, tick_labels(xticks), strict=True):
        x = sx(t)
        parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + 4}" stroke="#999"/>')
        parts.append(f'<text x="{x:.1f}" y="{y0 + 16}" font-size="10" text-anchor="middle">{text}</text>')
    for t, text in zip(yticks, tick_labels(yticks), strict=True):
        y = sy(t)
        parts.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0}" y2="{y:.1f}" stroke="#999"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{text}</text>')
    parts.append(
        f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
        f'class="axis-title">{escape(xlabel)}</text>'
    )
    parts.append(
        f'<text x="12" y="{(y0 + y1) / 2:.1f}" font-size="11" text-anchor="middle" class="axis-title" '
        f'transform="rotate(-90 12 {(y0 + y1) / 2:.1f})">{escape(ylabel)}</text>'
    )
    return parts


@dataclass
class Series:
    """One curve. ``axis`` "right" draws it against the second y axis; ``style`` is "line",
    "points" or "both"; ``dash`` an SVG dash pattern (e.g. "5 3") for fitted curves."""

    label: str
    points: list[tuple[float, float]]
    axis: str = "left"
    style: str = "line"
    colour: str = ""
    dash: str = ""
    tips: list[str] = field(default_factory=list)


def _scale(lo: float, hi: float, a: float, b: float, log: bool = False):
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    span = (hi - lo) or 1.0

    def f(v: float) -> float:
        v = math.log10(v) if log else v
        return a + (v - lo) / span * (b - a)

    return f


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) if lo <= 10.0**k <= hi]


def line_svg(
    series: list[Series],
    xlabel: str,
    ylabel: str,
    *,
    y2label: str = "",
    y2log: bool = False,
    bands: list[tuple[float, float, str]] | None = None,
    width: int = 560,
    height: int = 280,
    legend: bool = True,
) -> str:
    """Curves against a shared x axis, with optional second y axis (right) and shaded x bands.

    ``bands`` are ``(x_start, x_end, label)`` stretches (MD stages), drawn behind the curves
    with their label on top. ``legend=False`` leaves the legend off (small multiples share one
    legend on the page). Returns "" when no series has a point.
    """
    series = [s for s in series if s.points]
    if not series:
        return ""
    left = [s for s in series if s.axis == "left"] or series
    right = [s for s in series if s.axis == "right" and s not in left]
    if y2log:
        right = [Series(**{**s.__dict__, "points": [p for p in s.points if p[1] > 0]}) for s in right]
    xs = [x for s in series for x, _ in s.points] + [b for band in bands or [] for b in band[:2]]
    xlo, xhi = min(xs), max(xs)
    if xhi == xlo:
        xlo, xhi = limits([xlo])
    ylo, yhi = limits([y for s in left for _, y in s.points])
    r_margin = MARGIN_RIGHT_AXIS if right else MARGIN_RIGHT
    top = MARGIN_TOP + (14 if legend and len(series) > 1 else 0)
    x0, x1, y0, y1 = MARGIN_LEFT, width - r_margin, height - MARGIN_BOTTOM, top
    sx, sy = _scale(xlo, xhi, x0, x1), _scale(ylo, yhi, y0, y1)
    parts = frame(width, height, xlabel, ylabel, nice_ticks(xlo, xhi), nice_ticks(ylo, yhi), sx, sy,
                  f"{ylabel} against {xlabel}", right=r_margin, top=y1)  # fmt: skip
    for i, (start, end, label) in enumerate(bands or []):
        parts.append(
            f'<rect class="band" x="{sx(start):.1f}" y="{y1}" width="{max(sx(end) - sx(start), 0.5):.1f}" '
            f'height="{y0 - y1}" fill="{BAND_FILLS[i % 2]}"><title>{escape(label)}</title></rect>'
            f'<text x="{(sx(start) + sx(end)) / 2:.1f}" y="{y1 + 11}" font-size="9" fill="#555" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    sy2 = None
    if right:
        values = [y for s in right for _, y in s.points]
        if values:
            lo2, hi2 = (min(values) / 1.5, max(values) * 1.5) if y2log else limits(values)
            sy2 = _scale(lo2, hi2, y0, y1, log=y2log)
            ticks = _log_ticks(lo2, hi2) if y2log else nice_ticks(lo2, hi2)
            for t in ticks:
                parts.append(f'<line x1="{x1}" y1="{sy2(t):.1f}" x2="{x1 + 4}" y2="{sy2(t):.1f}" stroke="#999"/>')
                parts.append(f'<text x="{x1 + 6}" y="{sy2(t) + 3:.1f}" font-size="10">{tick_label(t)}</text>')
            mid = (y0 + y1) / 2
            parts.append(
                f'<text x="{width - 10}" y="{mid:.1f}" font-size="11" text-anchor="middle" class="axis-title" '
                f'transform="rotate(90 {width - 10} {mid:.1f})">{escape(y2label)}</text>'
            )
    for i, s in enumerate(series):
        colour = s.colour or PALETTE[i % len(PALETTE)]
        fy = sy2 if (s.axis == "right" and sy2 is not None and s not in left) else sy
        pts = [p for p in s.points if not (fy is sy2 and y2log and p[1] <= 0)]
        if s.style in ("line", "both") and len(pts) > 1:
            path = " ".join(f"{'M' if j == 0 else 'L'}{sx(x):.1f},{fy(y):.1f}" for j, (x, y) in enumerate(pts))
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
        if s.style in ("points", "both") or len(pts) == 1:
            for j, (x, y) in enumerate(pts):
                tip = s.tips[j] if j < len(s.tips) else f"{s.label}: {x:.5g}, {y:.5g}"
                parts.append(
                    f'<circle cx="{sx(x):.1f}" cy="{fy(y):.1f}" r="3.5" fill="{colour}">'
                    f"<title>{escape(tip)}</title></circle>"
                )
    if legend and len(series) > 1:
        x = x0
        for i, s in enumerate(series):
            colour = s.colour or PALETTE[i % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="{MARGIN_TOP - 8}" width="12" height="4" fill="{colour}"/>')
            parts.append(
                f'<text x="{x + 16}" y="{MARGIN_TOP - 3}" font-size="10" class="legend">{escape(s.label)}</text>'
            )
            x += 26 + 6 * len(s.label)
    parts.append("</svg>")
    return "".join(parts)
