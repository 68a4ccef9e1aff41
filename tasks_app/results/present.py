"""The per-type view of a task's result: headline numbers, the DFT verdict, sections, warnings
and charts — what a scientist reads instead of the JSON.

``present(kind, result, params, points)`` is pure (no database): the template tag hands it the
task's metric points. Kinds without a layout here (training) get every scalar of the result with
its key as label, as before.
"""

import numbers

from tasks_app.executors.warnings import result_warnings
from tasks_app.results import charts
from tasks_app.results.fields import format_value, lookup, row

LAYOUTS: dict[str, list[tuple[str, list[str]]]] = {
    "single_point": [
        ("Energy and forces", ["energy_ev", "energy_per_atom_ev", "max_force_ev_per_a", "pressure_gpa", "n_atoms"])
    ],
    "optimization": [
        ("Relaxation", ["converged", "steps", "final_fmax_ev_per_a", "initial_energy_ev", "final_energy_ev"]),
        (
            "Cell",
            [
                "initial.volume_a3",
                "final.volume_a3",
                "volume_change_pct",
                "initial.cell_lengths_a",
                "final.cell_lengths_a",
                "cell_length_change_pct",
                "initial.cell_angles_deg",
                "final.cell_angles_deg",
                "cell_angle_change_deg",
                "rmsd_to_input_a",
            ],
        ),
        (
            "Against DFT",
            [
                "dft.dft_volume_a3",
                "dft.volume_vs_dft_pct",
                "dft.input_volume_vs_dft_pct",
                "dft.final_vs_dft.cell_length_change_pct",
                "dft.rmsd_final_to_dft_a",
                "dft.rmsd_input_to_dft_a",
            ],
        ),
    ],
    "stability": [
        (
            "Outcome",
            ["variant", "volume_ratio_final", "volume_change_pct", "rmsd_final_to_initial_a", "stability_criterion"],
        ),
        ("Cell", ["initial.volume_a3", "final.volume_a3", "initial.cell_lengths_a", "final.cell_lengths_a"]),
    ],
    "bulk_modulus": [
        (
            "Equation of state (Birch–Murnaghan)",
            [
                "b0_gpa",
                "dft_b0_gpa",
                "b0_error_gpa",
                "v0_a3",
                "e0_ev",
                "relaxed_volume_a3",
                "v0_deviation_from_relaxed_pct",
                "fit_rms_residual_ev",
                "all_points_converged",
            ],
        ),
        ("Pre-relaxation", ["relax.converged", "relax.steps", "relax.final_fmax_ev_per_a"]),
    ],
    "heat_capacity": [
        ("Heat capacity", ["cv300_j_per_g_k", "dft_cv300_j_per_g_k", "cv300_error_j_per_g_k", "cv300_j_per_mol_k"]),
        (
            "Phonons",
            [
                "n_imaginary_gamma",
                "min_frequency_gamma_thz",
                "imaginary_mode_fraction_mesh",
                "n_displacements",
                "supercell",
                "mesh",
                "primitive_n_atoms",
            ],
        ),
        ("Pre-relaxation", ["relax.converged", "relax.steps", "relax.final_fmax_ev_per_a"]),
    ],
    "interaction_energy": [
        (
            "Interaction energy",
            [
                "interaction_energy_ev",
                "reference_interaction_energy_ev",
                "interaction_energy_error_ev",
                "energy_complex_ev",
                "energy_host_ev",
                "energy_guest_ev",
            ],
        ),
        ("Geometry", ["guest_formula", "guest_energy_geometry", "min_host_guest_distance_a", "force_mae_ev_per_a"]),
    ],
}

HEADLINE = {
    "single_point": ["energy_ev", "max_force_ev_per_a", "pressure_gpa"],
    "optimization": ["final_energy_ev", "final.volume_a3", "dft.volume_vs_dft_pct", "rmsd_to_input_a"],
    "stability": ["volume_ratio_final", "rmsd_final_to_initial_a"],
    "bulk_modulus": ["b0_gpa", "dft_b0_gpa", "v0_a3"],
    "heat_capacity": ["cv300_j_per_g_k", "dft_cv300_j_per_g_k", "n_imaginary_gamma"],
    "interaction_energy": ["interaction_energy_ev", "reference_interaction_energy_ev"],
}


SPEED = [
    "provenance.steps",
    "provenance.run_time_s",
    "provenance.steps_per_s",
    "provenance.atom_steps_per_s",
    "provenance.wall_time_s",
    "provenance.device",
    "provenance.gpu_name",
    "provenance.engine",
]


def speed(result: dict) -> list[dict]:
    """The speed rows every task type shows (from its provenance; none for an old result)."""
    rows = [r for r in (row(result, k) for k in SPEED) if r and r["value"] != ""]
    unit = lookup(result, "provenance.step_unit")
    for r in rows:
        if r["key"] == "provenance.steps" and unit:
            r["unit"] = unit
    return rows


def present(kind: str, result: dict, params: dict, points: list[dict]) -> dict:
    """``{"headline", "verdict", "sections", "tables", "warnings", "charts", "generic", "speed"}``."""
    if kind not in LAYOUTS:
        return {"generic": _generic_rows(result), "warnings": result.get("warnings") or [], "speed": speed(result)}
    sections = []
    for title, keys in LAYOUTS[kind]:
        rows = [r for r in (row(result, k) for k in keys) if r]
        if rows:
            sections.append({"title": title, "rows": rows})
    warnings = result.get("warnings")
    if warnings is None:  # a result stored before executors wrote warnings
        warnings = result_warnings(kind, result, params)
    return {
        "headline": [r for r in (row(result, k) for k in HEADLINE[kind]) if r],
        "verdict": _verdict(kind, result),
        "sections": sections,
        "tables": _tables(kind, result),
        "warnings": warnings,
        "charts": charts.for_result(kind, result, params, points),
        "generic": [],
        "speed": speed(result),
    }


def headline(kind: str, result: dict, count: int = 2) -> str:
    """The first ``count`` headline numbers as text, e.g. "B0 134.43 GPa · DFT B0 140.00 GPa"."""
    rows = [r for r in (row(result, k) for k in HEADLINE.get(kind, [])) if r][:count]
    text = " · ".join(f"{r['label']} {r['value']} {r['unit']}".strip() for r in rows)
    if result.get("warnings"):
        text += f" ⚠ {len(result['warnings'])}"
    return text


def _verdict(kind: str, result: dict) -> dict | None:
    """The pass/fail statement a benchmark would make, with the rule spelled out."""
    if kind == "optimization":
        within = lookup(result, "dft.within_10pct_of_dft_volume")
        if within is None:
            return None
        dv = format_value("dft.volume_vs_dft_pct", lookup(result, "dft.volume_vs_dft_pct"))
        text = f"ΔV vs DFT {dv} % is {'within' if within else 'outside'} the ±10 % window (MOFSimBench)"
        return {"ok": within, "text": text}
    if kind == "stability" and "stable" in result:
        return {
            "ok": result["stable"],
            "text": f"{'Stable' if result['stable'] else 'Unstable'} by the rule "
            + result.get("stability_criterion", "")
            + (": " + "; ".join(result["instability_reasons"]) if result.get("instability_reasons") else ""),
        }
    if kind == "bulk_modulus" and "unstable" in result:
        if result["unstable"]:
            return {
                "ok": False,
                "text": "Unstable fit: left out of the benchmark's B0 error (EOS minimum > 1 % from V_opt)",
            }
        return {"ok": True, "text": "Stable fit: EOS minimum within 1 % of the relaxed volume"}
    return None


def _tables(kind: str, result: dict) -> list[dict]:
    """Tabular parts of a result: MD stages, metal coordination, E(V) points."""
    tables = []
    if kind == "stability":
        stages = [
            [
                s["name"],
                s.get("ensemble", "opt (fixed cell)"),
                str(s.get("steps")),
                _num(s.get("temperature_target_k"), 0),
                _num(s.get("mean_temperature_k"), 1),
                _num(s.get("final_volume_a3"), 2),
                _num(s.get("final_energy_ev"), 4),
            ]
            for s in result.get("stages", [])
        ]
        tables.append(
            {
                "title": "Stages",
                "id": "stages",
                "head": ["stage", "ensemble", "steps", "target T (K)", "mean T (K)", "final V (Å³)", "final E (eV)"],
                "rows": stages,
            }
        )
        cn = result.get("metal_coordination") or {}
        if cn.get("initial"):
            rows = [
                [
                    el,
                    _num(cn["initial"].get(el), 3),
                    _num((cn.get("after_opt") or {}).get(el), 3),
                    _num((cn.get("final") or {}).get(el), 3),
                    _num((cn.get("change") or {}).get(el), 3, True),
                ]
                for el in cn["initial"]
            ]
            tables.append(
                {
                    "title": "Metal coordination (mean CrystalNN CN)",
                    "id": "coordination",
                    "head": ["metal", "input", "after opt", "final", "ΔCN"],
                    "rows": rows,
                }
            )
    if kind == "bulk_modulus" and result.get("points"):
        rows = [
            [_num(p["volume_a3"], 2), _num(p["energy_ev"], 5), "yes" if p["converged"] else "no", str(p["steps"])]
            for p in result["points"]
        ]
        tables.append(
            {
                "title": "E(V) points",
                "id": "eos-points",
                "head": ["V (Å³)", "E (eV)", "converged", "FIRE steps"],
                "rows": rows,
            }
        )
    return tables


def _num(value, decimals: int, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:{'+' if signed else ''}.{decimals}f}".replace("-", "−")


def _generic_rows(result: dict) -> list[tuple[str, str]]:
    """Top-level scalars (and short numeric lists) of a result without a layout."""
    rows = []
    for key, value in result.items():
        if key in ("provenance", "warnings"):
            continue
        if isinstance(value, str | numbers.Number | bool) or value is None:
            rows.append((key, "—" if value is None else _short(value)))
        elif isinstance(value, list) and 0 < len(value) <= 6 and all(isinstance(v, numbers.Number) for v in value):
            rows.append((key, ", ".join(_short(v) for v in value)))
    return rows


def _short(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{value:.6g}"
    return str(value)
