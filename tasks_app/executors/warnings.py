"""What a finished result should warn a scientist about — one rule set for the log, the API
result (``result["warnings"]``) and the task page.

A task can complete and still deserve a caveat: a relaxation that stopped at its step limit, an
equation-of-state fit the paper would exclude, imaginary phonon modes. The executors call
``result_warnings`` on their result, log each warning at WARNING level and store the list, so the
API shows exactly what the page shows. Plain Python, like the executors (no Django).
"""

CODES = (
    "not_converged",
    "relax_not_converged",
    "unstable_fit",
    "points_not_converged",
    "imaginary_modes",
    "unstable",
    "no_dft_rmsd",
)


def _relax_note(what: str, outcome: dict, target) -> str:
    fmax = outcome.get("final_fmax_ev_per_a")
    limit = f" > {target:g}" if target is not None else ""
    return f"{what} did not converge: fmax {fmax:.3g} eV/Å{limit} after {outcome.get('steps')} steps"


def result_warnings(kind: str, result: dict, params: dict) -> list[dict]:
    """``[{"code", "message"}]`` for ``result`` of a task of ``kind`` run with ``params``."""
    out: list[dict] = []

    def add(code: str, message: str) -> None:
        out.append({"code": code, "message": message})

    if kind == "optimization":
        if result.get("converged") is False:
            add("not_converged", _relax_note("The relaxation", result, params.get("fmax")))
        dft = result.get("dft") or {}
        if "rmsd_final_to_dft_a" in dft and dft["rmsd_final_to_dft_a"] is None:
            add("no_dft_rmsd", "The DFT structure has another atom count: no RMSD to DFT")
    elif kind == "bulk_modulus":
        relax = result.get("relax") or {}
        if relax.get("converged") is False:
            add("relax_not_converged", _relax_note("The pre-relaxation", relax, params.get("relax_fmax")))
        if result.get("unstable"):
            why = result.get("fit_error") or (
                f"EOS minimum {result.get('v0_deviation_from_relaxed_pct', 0.0):+.2f} % from the relaxed volume (> 1 %)"
            )
            add("unstable_fit", f"Unstable equation-of-state fit ({why}); MOFSimBench excludes such fits")
        if result.get("all_points_converged") is False:
            n = sum(1 for p in result.get("points", []) if not p.get("converged"))
            add("points_not_converged", f"{n} of {len(result.get('points', []))} E(V) points did not converge")
    elif kind == "heat_capacity":
        relax = result.get("relax") or {}
        if relax.get("converged") is False:
            add("relax_not_converged", _relax_note("The pre-relaxation", relax, params.get("relax_fmax")))
        n_gamma = result.get("n_imaginary_gamma") or 0
        fraction = result.get("imaginary_mode_fraction_mesh") or 0.0
        if n_gamma or fraction:
            add(
                "imaginary_modes",
                f"Imaginary modes: {n_gamma} at Γ (below −{result.get('imaginary_threshold_thz', 0.1):g} THz), "
                f"{100 * fraction:.2f} % of mesh modes; they are left out of Cv",
            )
    elif kind == "stability":
        for stage in result.get("stages", []):
            if stage.get("kind") == "opt" and stage.get("converged") is False:
                add("relax_not_converged", _relax_note(f"The {stage['name']} stage", stage, params.get("opt_fmax")))
        if result.get("stable") is False:
            add("unstable", "Unstable: " + "; ".join(result.get("instability_reasons") or ["criterion not met"]))
    return out


def attach(kind: str, result: dict, params: dict, report) -> dict:
    """Store the warnings in ``result`` and log each one at WARNING level; returns ``result``."""
    result["warnings"] = result_warnings(kind, result, params)
    for warning in result["warnings"]:
        report.log(warning["message"], level="WARNING")
    return result
