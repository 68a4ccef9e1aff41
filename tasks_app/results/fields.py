"""Result keys → label, unit and precision, so every page formats a number the same way.

``precision`` is decimals for floats; ``signed`` prints a sign (changes and errors). A value that
rounds to zero prints as zero (a cell angle change of −1.6e-7° is "+0.000°", not noise).
"""

import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    label: str
    unit: str = ""
    precision: int = 4
    signed: bool = False
    percent_of_one: bool = False  # a fraction shown as percent


FIELDS: dict[str, Field] = {
    # speed (provenance, ``tasks_app.speed``): the same keys for every task type
    "provenance.steps": Field("Steps", "", 0),
    "provenance.wall_time_s": Field("Wall time (attempt, model load included)", "s", 1),
    "provenance.run_time_s": Field("Run time", "s", 2),
    "provenance.steps_per_s": Field("Speed", "steps/s", 2),
    "provenance.atom_steps_per_s": Field("Speed per atom", "atoms·steps/s", 1),
    "provenance.device": Field("Device"),
    "provenance.gpu_name": Field("GPU"),
    "provenance.engine": Field("Engine"),
    # energies and forces
    "energy_ev": Field("Energy", "eV", 5),
    "energy_per_atom_ev": Field("Energy per atom", "eV/atom", 5),
    "initial_energy_ev": Field("Initial energy", "eV", 4),
    "final_energy_ev": Field("Final energy", "eV", 4),
    "max_force_ev_per_a": Field("Largest force", "eV/Å", 4),
    "final_fmax_ev_per_a": Field("Final fmax (largest force)", "eV/Å", 4),
    "pressure_gpa": Field("Pressure", "GPa", 3),
    "steps": Field("Optimizer steps", "", 0),
    "converged": Field("Converged"),
    "n_atoms": Field("Atoms", "", 0),
    # cells and structures
    "initial.volume_a3": Field("Volume (input)", "Å³", 2),
    "final.volume_a3": Field("Volume (final)", "Å³", 2),
    "initial.cell_lengths_a": Field("Cell a, b, c (input)", "Å", 3),
    "final.cell_lengths_a": Field("Cell a, b, c (final)", "Å", 3),
    "initial.cell_angles_deg": Field("Cell α, β, γ (input)", "°", 2),
    "final.cell_angles_deg": Field("Cell α, β, γ (final)", "°", 2),
    "volume_change_pct": Field("ΔV vs input", "%", 2, signed=True),
    "cell_length_change_pct": Field("Δa, Δb, Δc vs input", "%", 2, signed=True),
    "cell_angle_change_deg": Field("Δα, Δβ, Δγ vs input", "°", 3, signed=True),
    "rmsd_to_input_a": Field("RMSD to input", "Å", 4),
    # DFT comparison (optimization)
    "dft.dft_volume_a3": Field("DFT volume", "Å³", 2),
    "dft.volume_vs_dft_pct": Field("ΔV vs DFT", "%", 2, signed=True),
    "dft.input_volume_vs_dft_pct": Field("ΔV of the input vs DFT", "%", 2, signed=True),
    "dft.rmsd_final_to_dft_a": Field("RMSD to the DFT structure", "Å", 4),
    "dft.rmsd_input_to_dft_a": Field("RMSD of the input to DFT", "Å", 4),
    "dft.final_vs_dft.cell_length_change_pct": Field("Δa, Δb, Δc vs DFT", "%", 2, signed=True),
    # stability
    "variant": Field("Protocol variant"),
    "volume_ratio_final": Field("V/V0 (final / input)", "", 4),
    "rmsd_final_to_initial_a": Field("RMSD final to input", "Å", 4),
    "stability_criterion": Field("Rule used"),
    # bulk modulus
    "b0_gpa": Field("B0", "GPa", 2),
    "dft_b0_gpa": Field("DFT B0", "GPa", 2),
    "b0_error_gpa": Field("B0 − DFT", "GPa", 2, signed=True),
    "v0_a3": Field("V0 (EOS minimum)", "Å³", 2),
    "e0_ev": Field("E0 (EOS minimum)", "eV", 4),
    "relaxed_volume_a3": Field("Relaxed volume", "Å³", 2),
    "v0_deviation_from_relaxed_pct": Field("V0 vs relaxed volume", "%", 2, signed=True),
    "fit_rms_residual_ev": Field("Fit RMS residual", "meV", 3),
    "all_points_converged": Field("All E(V) points converged"),
    "relax.converged": Field("Pre-relaxation converged"),
    "relax.steps": Field("Pre-relaxation steps", "", 0),
    "relax.final_fmax_ev_per_a": Field("Pre-relaxation final fmax", "eV/Å", 4),
    # heat capacity
    "cv300_j_per_g_k": Field("Cv(300 K)", "J/(g·K)", 4),
    "dft_cv300_j_per_g_k": Field("DFT Cv(300 K)", "J/(g·K)", 4),
    "cv300_error_j_per_g_k": Field("Cv(300 K) − DFT", "J/(g·K)", 4, signed=True),
    "cv300_j_per_mol_k": Field("Cv(300 K) per mole of primitive cells", "J/(mol·K)", 2),
    "n_imaginary_gamma": Field("Imaginary modes at Γ", "", 0),
    "min_frequency_gamma_thz": Field("Lowest frequency at Γ", "THz", 3),
    "imaginary_mode_fraction_mesh": Field("Imaginary modes on the mesh", "%", 2, percent_of_one=True),
    "n_displacements": Field("Displaced cells", "", 0),
    "supercell": Field("Supercell", "", 0),
    "mesh": Field("q-point mesh", "", 0),
    "primitive_n_atoms": Field("Atoms in the primitive cell", "", 0),
    # interaction energy
    "interaction_energy_ev": Field("E_int", "eV", 4),
    "reference_interaction_energy_ev": Field("Reference E_int", "eV", 4),
    "interaction_energy_error_ev": Field("E_int − reference", "eV", 4, signed=True),
    "energy_complex_ev": Field("E(complex)", "eV", 4),
    "energy_host_ev": Field("E(host)", "eV", 4),
    "energy_guest_ev": Field("E(guest, isolated)", "eV", 4),
    "guest_formula": Field("Guest"),
    "guest_energy_geometry": Field("Guest geometry for E(guest)"),
    "min_host_guest_distance_a": Field("Closest host–guest distance", "Å", 3),
    "force_mae_ev_per_a": Field("Force MAE vs reference", "eV/Å", 4),
}


def lookup(result: dict, key: str):
    """``result["a"]["b"]`` for key "a.b"; None when any part is missing."""
    value = result
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def format_value(key: str, value) -> str:
    """The value of ``key`` as text, without unit ("—" when missing)."""
    field = FIELDS.get(key, Field(key))
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(key, v) for v in value) if field.precision else " × ".join(map(str, value))
    if isinstance(value, numbers.Integral) and not field.precision:
        return str(value)
    if isinstance(value, numbers.Real):
        number = float(value) * (100.0 if field.percent_of_one else 1.0) * (1000.0 if field.unit == "meV" else 1.0)
        if abs(number) < 0.5 * 10.0**-field.precision:
            number = 0.0
        return f"{number:{'+' if field.signed else ''}.{field.precision}f}".replace("-", "−")
    return str(value)


def row(result: dict, key: str) -> dict | None:
    """``{"key", "label", "value", "unit"}`` for a key present in ``result``, else None."""
    value = lookup(result, key)
    if value is None:
        return None
    field = FIELDS.get(key, Field(key))
    return {"key": key, "label": field.label, "value": format_value(key, value), "unit": field.unit}
