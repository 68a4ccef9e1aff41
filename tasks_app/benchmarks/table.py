"""Which report columns to show and how to format them ("—" for anything missing).

Shared by the report page, the CSV download and ``manage.py enqueue_benchmark`` so the three
never disagree on headers or rounding. CSV gets raw values (empty for missing), pages and the
terminal get formatted strings.
"""

import csv
import io
from dataclasses import dataclass

from tasks_app.benchmarks.report import DASH


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    fmt: str = ""  # format spec for numbers; bools render yes/no


BASE = [
    Column("structure", "Structure"),
    Column("n_atoms", "Atoms", "d"),
    Column("status", "Status"),
    Column("steps", "Steps", "d"),
    Column("final_energy_ev", "E final (eV)", ".4f"),
]
VOLUME = [
    Column("volume_change_pct", "ΔV vs input (%)", "+.2f"),
    Column("volume_vs_dft_pct", "ΔV vs DFT (%)", "+.2f"),
]
OPTIONAL = [
    Column("converged", "Converged"),
    *VOLUME,
    Column("rmsd_to_dft_a", "RMSD to DFT (Å)", ".3f"),
    Column("b0_gpa", "B0 (GPa)", ".2f"),
    Column("dft_b0_gpa", "DFT B0 (GPa)", ".2f"),
    Column("b0_error_gpa", "B0 error (GPa)", "+.2f"),
    Column("eos_stable", "EOS stable"),
    Column("cv300_j_per_g_k", "Cv 300 K (J/g/K)", ".3f"),
    Column("dft_cv300_j_per_g_k", "DFT Cv (J/g/K)", ".3f"),
    Column("cv300_error", "Cv error (J/g/K)", "+.3f"),
    Column("stable", "Stable"),
]
TAIL = [
    Column("wall_time_s", "Wall (s)", ".1f"),
    Column("steps_per_s", "steps/s", ".2f"),
    Column("atom_steps_per_s", "atoms·steps/s", ".0f"),
    Column("device", "Device"),
]
# Columns a task type always shows (as "—" until its executor reports them).
KIND_COLUMNS = {
    "optimization": {"converged", "volume_change_pct", "volume_vs_dft_pct"},
    "bulk_modulus": {"volume_vs_dft_pct", "b0_gpa", "dft_b0_gpa", "b0_error_gpa", "eos_stable"},
    "heat_capacity": {"cv300_j_per_g_k", "dft_cv300_j_per_g_k", "cv300_error"},
    "stability": {"volume_change_pct", "stable"},
}
CSV_EXTRA = [
    Column("task_id", "task_id"),
    Column("volume_input_a3", "volume_input_a3"),
    Column("volume_final_a3", "volume_final_a3"),
    Column("dft_volume_a3", "dft_volume_a3"),
    Column("error", "error"),
]


# A DFT reference column is only worth showing next to the prediction it is compared with.
REFERENCE_OF = {"dft_b0_gpa": "b0_gpa", "dft_cv300_j_per_g_k": "cv300_j_per_g_k"}


def columns_for(kind: str, rows, tail: bool = True) -> list[Column]:
    """Base columns, the kind's own, any other column some row has a value for, then speed."""
    wanted = KIND_COLUMNS.get(kind, set())

    def has(key):
        return any(r.get(key) is not None for r in rows)

    optional = [c for c in OPTIONAL if c.key in wanted or (has(c.key) and has(REFERENCE_OF.get(c.key, c.key)))]
    return [*BASE, *optional, *(TAIL if tail else [])]


def format_value(value, fmt: str = "") -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if fmt and isinstance(value, int | float):
        return format(int(value) if fmt == "d" else value, fmt)
    return str(value)


def format_row(row: dict, columns) -> list[str]:
    return [format_value(row.get(c.key), c.fmt) for c in columns]


def text_table(rows, columns) -> str:
    """A fixed-width table for the terminal."""
    header = [c.label for c in columns]
    body = [format_row(r, columns) for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(cells) for cells in body)])


def csv_text(rows, kind: str) -> str:
    """Raw values (no rounding), machine-readable keys as headers, empty cells for missing."""
    columns = [*columns_for(kind, rows), *CSV_EXTRA]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c.key) is None else row.get(c.key) for c in columns])
    return out.getvalue()


def _n(value, fmt: str) -> str:
    return DASH if value is None else format(value, fmt)


def summary_items(summary: dict) -> list[tuple[str, str]]:
    """The summary as (label, text) pairs: sections without data are left out, not faked."""
    items = [
        (
            "Tasks",
            f"{summary['completed']} completed, {summary['failed']} failed, {summary['cancelled']} cancelled"
            f" — {summary['finished']} of {summary['total']} finished",
        )
    ]
    judged = summary["converged"] + summary["not_converged"]
    if judged:
        items.append(("Converged", f"{summary['converged']} of {judged}"))
    if volume := summary.get("volume"):
        items.append(
            (
                "Within ±10 % of DFT volume",
                f"{volume['within_10pct']} of {volume['n']} ({volume['share_within_10pct']:.0%})"
                + (f"; {volume['n_missing']} without a final volume" if volume["n_missing"] else ""),
            )
        )
        items.append(("Mean |ΔV vs DFT|", f"{_n(volume['mae_pct'], '.2f')} %"))
    if b0 := summary.get("bulk_modulus"):
        items.append(
            (
                "B0 MAE / MAPE vs DFT",
                f"{_n(b0['mae_gpa'], '.2f')} GPa / {_n(b0['mape_pct'], '.1f')} % (n = {b0['n']}; "
                f"{b0['excluded_unstable']} unstable EOS fits excluded)",
            )
        )
    if cv := summary.get("heat_capacity"):
        items.append(("Cv(300 K) MAE vs DFT", f"{cv['mae']:.4f} J/g/K ({_n(cv['mape_pct'], '.1f')} %, n = {cv['n']})"))
    if st := summary.get("stability"):
        items.append(
            (
                "Stability failures",
                f"{st['failures']} of {st['n']} ({st['unstable']} unstable, {st['failed']} failed); "
                f"mean |ΔV| {_n(st['mean_abs_volume_change_pct'], '.2f')} %",
            )
        )
    speed = summary["speed"]
    if speed["median_atom_steps_per_s"] is not None:
        items.append(("Median speed", f"{speed['median_atom_steps_per_s']:.0f} atoms·steps/s"))
    if speed["total_wall_time_s"] is not None:
        items.append(("Total wall time", f"{speed['total_wall_time_s']:.1f} s"))
    if speed["devices"]:
        items.append(("Devices", ", ".join(speed["devices"])))
    return items
