"""The plots of each result type, drawn as inline SVG (``mofsim_site.svgplot``).

* optimization: energy and fmax (log axis) against the optimizer step; volume against the step;
* stability: temperature, pressure and volume against MD time, each MD stage shaded and named;
* bulk modulus: the E(V) points and the Birch–Murnaghan curve refitted from them (the result
  stores B0, V0, E0 but not B0', so the curve is refitted here with the same ASE fit);
* heat capacity: Cv(T) with the DFT value at 300 K as a point.

Each returns ``{"id", "title", "svg"}``; the markup is escaped by ``svgplot`` and marked safe by
the template tag.
"""

import functools

import numpy as np

from mofsim_site.svgplot import Series, line_svg


def for_result(kind: str, result: dict, params: dict, points: list[dict]) -> list[dict]:
    builders = {
        "optimization": _optimization,
        "stability": _stability,
        "bulk_modulus": _bulk_modulus,
        "heat_capacity": _heat_capacity,
    }
    builder = builders.get(kind)
    return [c for c in builder(result, params, points) if c["svg"]] if builder else []


def _series(points: list[dict], key: str, stage: str | None = None) -> list[tuple[float, float]]:
    return [
        (p["step"], p["data"][key])
        for p in points
        if isinstance(p["data"].get(key), int | float) and (stage is None or p["data"].get("stage") == stage)
    ]


def _optimization(result, params, points):
    energy, fmax, volume = _series(points, "energy"), _series(points, "fmax"), _series(points, "volume")
    yield {
        "id": "chart-energy",
        "title": "Relaxation: energy and largest force",
        "svg": line_svg(
            [Series("energy (eV)", energy), Series("fmax (eV/Å)", fmax, axis="right", colour="#c2410c")],
            "optimizer step",
            "energy (eV)",
            y2label="fmax (eV/Å, log scale)",
            y2log=True,
        ),
    }
    yield {
        "id": "chart-volume",
        "title": "Relaxation: cell volume",
        "svg": line_svg([Series("volume (Å³)", volume, colour="#047857")], "optimizer step", "volume (Å³)"),
    }


def stage_times(result: dict, params: dict) -> tuple[dict, list[tuple[float, float, str]]]:
    """Per MD stage: (global first step, MD time offset in ps), and its band on the time axis.

    Progress steps run across all stages (opt steps included); MD time counts only MD steps. The
    executor advances the step offset by an opt stage's *planned* steps (``opt_steps``), not the
    steps it took to converge.
    """
    dt_ps = params.get("timestep_fs", 1.0) / 1000.0
    offsets, bands, step, md_steps = {}, [], 0, 0
    for stage in result.get("stages", []):
        n = int((params.get("opt_steps") if stage.get("kind") == "opt" else None) or stage.get("steps") or 0)
        if stage.get("kind") != "opt":
            offsets[stage["name"]] = (step, md_steps * dt_ps)
            bands.append((md_steps * dt_ps, (md_steps + n) * dt_ps, stage["name"]))
            md_steps += n
        step += n
    return offsets, bands


def _stability(result, params, points):
    offsets, bands = stage_times(result, params)
    dt_ps = params.get("timestep_fs", 1.0) / 1000.0

    def md(key):
        out = []
        for p in points:
            where = offsets.get(p["data"].get("stage"))
            value = p["data"].get(key)
            if where is not None and isinstance(value, int | float):
                out.append((where[1] + (p["step"] - where[0]) * dt_ps, value))
        return out

    for key, label, colour in (
        ("temperature", "temperature (K)", "#b91c1c"),
        ("pressure_gpa", "pressure (GPa)", "#7c3aed"),
        ("volume", "volume (Å³)", "#047857"),
    ):
        yield {
            "id": f"chart-{key}",
            "title": f"MD: {label.split(' (')[0]} against time, stages shaded",
            "svg": line_svg([Series(label, md(key), colour=colour)], "time (ps)", label, bands=bands, height=230),
        }


@functools.lru_cache(maxsize=4096)
def _birch_murnaghan_fit(volumes: tuple[float, ...], energies: tuple[float, ...]) -> tuple[float, ...] | None:
    """E0, B0 (eV/Å³), B0', V0 of the fit, or None when it fails. Cached on the numbers
    themselves: a benchmark report polled every few seconds redraws the same finished curves."""
    from ase.eos import EquationOfState

    eos = EquationOfState(list(volumes), list(energies), eos="birchmurnaghan")
    try:
        eos.fit(warn=False)
    except (RuntimeError, ValueError):
        return None
    return tuple(float(x) for x in eos.eos_parameters)


def birch_murnaghan_curve(points: list[dict], n: int = 80, b0_gpa: float | None = None) -> list[tuple[float, float]]:
    """The fitted E(V) curve over the scanned range ([] when the fit fails).

    With ``b0_gpa`` the curve keeps the fitted E0, V0 and B0' but takes that bulk modulus (the
    benchmark report draws the DFT B0 this way, so a too soft or too stiff model shows as a
    curve that is too wide or too narrow around the same minimum).
    """
    from ase.eos import birchmurnaghan
    from ase.units import GPa

    volumes = tuple(float(p["volume_a3"]) for p in points)
    fitted = _birch_murnaghan_fit(volumes, tuple(float(p["energy_ev"]) for p in points))
    if fitted is None:
        return []
    e0, b0, bp, v0 = fitted
    if b0_gpa is not None:
        b0 = b0_gpa * GPa
    grid = np.linspace(min(volumes), max(volumes), n)
    return [(float(v), float(e)) for v, e in zip(grid, birchmurnaghan(grid, e0, b0, bp, v0), strict=True)]


def _bulk_modulus(result, params, points):
    eos_points = result.get("points") or []
    computed = [(p["volume_a3"], p["energy_ev"]) for p in eos_points]
    tips = [
        f"V {p['volume_a3']:.2f} Å³, E {p['energy_ev']:.5f} eV{'' if p['converged'] else ' (not converged)'}"
        for p in eos_points
    ]
    b0 = result.get("b0_gpa")
    fit_label = f"Birch–Murnaghan fit, B0 = {b0:.1f} GPa" if b0 is not None else "fit failed"
    yield {
        "id": "chart-eos",
        "title": "Energy against volume",
        "svg": line_svg(
            [
                Series("computed E(V)", computed, style="points", tips=tips),
                Series(fit_label, birch_murnaghan_curve(eos_points), dash="5 3", colour="#d1495b"),
            ],
            "volume (Å³)",
            "energy (eV)",
        ),
    }


def _heat_capacity(result, params, points):
    temperatures, cv = result.get("temperatures_k") or [], result.get("cv_j_per_g_k") or []
    series = [Series("Cv (this model)", list(zip(temperatures, cv, strict=False)))]
    dft = result.get("dft_cv300_j_per_g_k")
    if dft is not None:
        series.append(
            Series(
                "DFT Cv(300 K)",
                [(300.0, dft)],
                style="points",
                colour="#d1495b",
                tips=[f"DFT Cv(300 K) = {dft:.4f} J/(g·K)"],
            )
        )
    yield {
        "id": "chart-cv",
        "title": "Heat capacity against temperature",
        "svg": line_svg(series, "temperature (K)", "Cv (J/(g·K))"),
    }
