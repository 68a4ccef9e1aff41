"""A structure as a chemist reads it: space group, density, the DFT reference in words, and the
data for the 3D cell view.

Space groups come from spglib (installed with phonopy) with a 0.1 Å tolerance, loose enough for
DFT- or MLIP-relaxed MOFs; a failure is shown as unknown rather than breaking the page.
"""

import numpy as np
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660
SYMPREC_A = 0.1
VIEWER_MAX_ATOMS = 2000


def crystal_summary(atoms) -> dict:
    """``{"spacegroup", "spacegroup_number", "density_g_cm3", "mass_amu"}`` (None where undefined)."""
    mass = float(atoms.get_masses().sum())
    out = {"mass_amu": mass, "spacegroup": None, "spacegroup_number": None, "density_g_cm3": None}
    if not atoms.pbc.all() or atoms.cell.volume <= 0:
        return out
    out["density_g_cm3"] = float(mass / atoms.get_volume() * AMU_PER_A3_TO_G_PER_CM3)
    try:
        import spglib

        data = spglib.get_symmetry_dataset(
            (np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers), symprec=SYMPREC_A
        )
    except Exception:  # noqa: BLE001 - spglib raises its own error types across versions; the page shows "unknown"
        data = None
    if data is not None:
        out["spacegroup"], out["spacegroup_number"] = data.international, int(data.number)
    return out


def reference_in_words(reference: dict | None) -> list[str]:
    """The DFT reference as sentences (never the internal path of the DFT structure file)."""
    reference = reference or {}
    words = []
    if reference.get("dft_volume"):
        words.append(f"DFT-relaxed cell volume {reference['dft_volume']:.2f} Å³")
    if reference.get("dft_structure"):
        words.append("DFT-optimised structure on file: optimization tasks report the RMSD to it")
    if reference.get("dft_b0_gpa"):
        words.append(f"DFT bulk modulus B0 {reference['dft_b0_gpa']:.2f} GPa")
    if reference.get("dft_cv300_j_per_g_k"):
        words.append(f"DFT heat capacity Cv(300 K) {reference['dft_cv300_j_per_g_k']:.4f} J/(g·K)")
    return words


def viewer_data(atoms) -> dict | None:
    """Positions, element colours and radii and the cell vectors, for static/js/cellview.js."""
    if len(atoms) > VIEWER_MAX_ATOMS:
        return None
    colours = ["#" + "".join(f"{int(255 * c):02x}" for c in jmol_colors[z]) for z in atoms.numbers]
    return {
        "positions": np.round(atoms.positions, 3).tolist(),
        "symbols": atoms.get_chemical_symbols(),
        "colours": colours,
        "radii": [round(float(covalent_radii[z]), 2) for z in atoms.numbers],
        "cell": np.round(np.array(atoms.cell), 3).tolist() if atoms.pbc.any() else None,
    }
