"""Small multiples on a benchmark report: one panel per structure with the curve behind its number.

* bulk_modulus — the computed E(V) points, the Birch–Murnaghan curve refitted from them, and the
  same curve with the DFT B0 (same minimum, DFT stiffness); B0 and DFT B0 in the panel title, an
  unstable fit flagged. Energies are drawn as E − E_min: absolute energies of a MOF cell
  (−1000 eV and more) would leave no room for readable ticks on a small panel.
* heat_capacity — Cv(T) from the phonon run with the DFT Cv(300 K) as a point; both values in the
  panel title.

Pure functions over report rows and task results (no Django), like ``report``; the result keys
are the executors' (``points`` of bulk_modulus, ``temperatures_k``/``cv_j_per_g_k`` of
heat_capacity). A structure without a completed result gets no panel; its row in the table says
why. Every panel of a report has the same size and axis titles, so twenty or two hundred read the
same way in the page's grid.
"""

from mofsim_site.svgplot import Series, line_svg
from tasks_app.results.charts import birch_murnaghan_curve

PANEL_WIDTH, PANEL_HEIGHT = 300, 220
FIT_COLOUR, DFT_COLOUR = "#d1495b", "#6b7280"

# Shown once above the grid (the panels carry no legend of their own): (label, colour, dash, marker).
LEGENDS = {
    "bulk_modulus": [
        ("computed E(V)", "#2557a7", "", True),
        ("Birch–Murnaghan fit", FIT_COLOUR, "5 3", False),
        ("same fit with the DFT B0", DFT_COLOUR, "2 2", False),
    ],
    "heat_capacity": [
        ("Cv(T), this model", "#2557a7", "", False),
        ("DFT Cv(300 K)", FIT_COLOUR, "", True),
    ],
}


def structure_panels(kind: str, rows: list[dict], results: dict) -> list[dict]:
    """``[{"structure", "task_id", "title", "flags", "svg"}]`` in row order; [] for other kinds.

    ``results`` maps a row's ``task_id`` to its task's result dict.
    """
    builder = {"bulk_modulus": _eos_panel, "heat_capacity": _cv_panel}.get(kind)
    if builder is None:
        return []
    panels = []
    for row in rows:
        result = results.get(row["task_id"]) or {}
        svg, title = builder(row, result)
        if svg:
            flags = [w.get("code", "").replace("_", " ") for w in result.get("warnings") or [] if w.get("code")]
            if row.get("eos_stable") is False and "unstable fit" not in flags:
                flags.append("unstable fit")
            panels.append({"structure": row["structure"], "task_id": row["task_id"], "title": title,
                           "flags": flags, "svg": svg})  # fmt: skip
    return panels


def _number_text(value, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _eos_panel(row: dict, result: dict) -> tuple[str, str]:
    points = [p for p in result.get("points") or [] if None not in (p.get("volume_a3"), p.get("energy_ev"))]
    if not points:
        return "", ""
    e_min = min(p["energy_ev"] for p in points)
    tips = [
        f"V {p['volume_a3']:.2f} Å³, E − E_min {p['energy_ev'] - e_min:.4f} eV"
        + ("" if p.get("converged", True) else " (not converged)")
        for p in points
    ]
    series = [Series("computed E(V)", [(p["volume_a3"], p["energy_ev"] - e_min) for p in points],
                     style="points", tips=tips)]  # fmt: skip
    fit = birch_murnaghan_curve(points, n=60)
    if fit:
        series.append(Series("fit", [(v, e - e_min) for v, e in fit], colour=FIT_COLOUR, dash="5 3"))
    dft_b0 = row.get("dft_b0_gpa")
    if fit and dft_b0:
        dft_curve = birch_murnaghan_curve(points, n=60, b0_gpa=dft_b0)
        series.append(Series("DFT B0", [(v, e - e_min) for v, e in dft_curve], colour=DFT_COLOUR, dash="2 2"))
    title = f"B0 {_number_text(row.get('b0_gpa'), '.1f')} GPa · DFT {_number_text(dft_b0, '.1f')} GPa"
    svg = line_svg(series, "volume (Å³)", "E − E_min (eV)", width=PANEL_WIDTH, height=PANEL_HEIGHT, legend=False)
    return svg, title


def _cv_panel(row: dict, result: dict) -> tuple[str, str]:
    curve = list(zip(result.get("temperatures_k") or [], result.get("cv_j_per_g_k") or [], strict=False))
    curve = [(t, c) for t, c in curve if t is not None and c is not None]
    if not curve:
        return "", ""
    series = [Series("Cv(T)", curve)]
    dft = row.get("dft_cv300_j_per_g_k")
    if dft is not None:
        series.append(Series("DFT Cv(300 K)", [(300.0, dft)], style="points", colour=FIT_COLOUR,
                             tips=[f"DFT Cv(300 K) = {dft:.4f} J/(g·K)"]))  # fmt: skip
    title = f"Cv(300 K) {_number_text(row.get('cv300_j_per_g_k'), '.3f')} · DFT {_number_text(dft, '.3f')} J/(g·K)"
    svg = line_svg(series, "temperature (K)", "Cv (J/(g·K))", width=PANEL_WIDTH, height=PANEL_HEIGHT, legend=False)
    return svg, title
