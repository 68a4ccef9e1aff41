"""Host–guest interaction energy (MOFSimBench §2.5): E_int = E(complex) − E(host) − E(guest).

Two ways to describe the system (``params["mode"]``):

* ``place_guest`` — the task's structure is the host; a built-in molecule (``ase.build.molecule``
  G2 geometry: CO2, H2O, N2, CH4) is rotated by the Euler angles ``guest_rotation_deg``
  (ASE ``euler_rotate`` convention, about its centre of mass) and its centre of mass put at
  ``guest_position`` (Cartesian Å).
* ``complex`` — the task's structure is the complex; the guest atoms are ``guest_indices`` or,
  if not given, every atom with a non-zero tag (GoldDAC convention: framework atoms have tag 0).
  The host is the complex without them, in the same cell and geometry.

The guest energy is that of the isolated molecule (no cell, no periodicity): the G2 geometry when
``guest`` names a built-in molecule (what the benchmark does), otherwise the guest atoms exactly as
they sit in the complex. Reference values come from ``params["reference"]`` or, for GoldDAC-style
extxyz files, from ``atoms.info`` (``DFT_E_total``, ``DFT_E_mof``, ``DFT_E_gas``) and
``atoms.arrays["REF_forces"]``; with them the result carries energy and force errors.
"""

import numpy as np
from ase import Atoms
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.geometry import get_distances
from ase.io import write

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy

GUESTS = ("CO2", "H2O", "N2", "CH4")


def build_guest(name: str, rotation_deg=(0.0, 0.0, 0.0)):
    guest = molecule(name)
    phi, theta, psi = rotation_deg
    if any(rotation_deg):
        guest.euler_rotate(phi=phi, theta=theta, psi=psi, center="COM")
    return guest


def assemble(host, params) -> tuple:
    """Return (complex, host, guest-as-in-complex, index array of guest atoms in the complex)."""
    if params["mode"] == "place_guest":
        guest = build_guest(params["guest"], params["guest_rotation_deg"])
        guest.translate(np.asarray(params["guest_position"]) - guest.get_center_of_mass())
        guest.set_tags(1)
        complex_ = host.copy()
        complex_.set_tags(0)
        complex_ += guest
        idx = np.arange(len(host), len(complex_))
        return complex_, host.copy(), guest, idx
    complex_ = host
    if params.get("guest_indices"):
        idx = np.asarray(params["guest_indices"], dtype=int)
        if idx.max() >= len(complex_):
            raise ExecutorError(f"guest_indices reach {idx.max()}, but the structure has {len(complex_)} atoms")
    else:
        idx = np.flatnonzero(complex_.get_tags() != 0)
    if len(idx) == 0 or len(idx) == len(complex_):
        raise ExecutorError("cannot tell guest from host: give guest_indices or tag the guest atoms (tag ≠ 0)")
    mask = np.zeros(len(complex_), dtype=bool)
    mask[idx] = True
    return complex_.copy(), complex_[~mask], complex_[mask], idx


def energy_and_forces(atoms, calculator, what: str):
    atoms.calc = calculator
    energy = float(atoms.get_potential_energy())
    check_energy(energy, f" ({what})")
    return energy, atoms.get_forces().copy()


def write_complex(path, complex_, energy, forces) -> None:
    """Artifact: the complex with tags, energy and forces only (free of host ``info`` baggage)."""
    out = Atoms(complex_.numbers, complex_.positions, cell=complex_.cell, pbc=complex_.pbc, tags=complex_.get_tags())
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces)
    write(path, out)


def run(atoms, calculator, params, report) -> dict:
    complex_, host, guest_in_complex, idx = assemble(atoms, params)
    if params.get("guest"):
        isolated = build_guest(params["guest"])
        if sorted(isolated.get_chemical_symbols()) != sorted(guest_in_complex.get_chemical_symbols()):
            raise ExecutorError(f"guest atoms {guest_in_complex.get_chemical_formula()} are not {params['guest']}")
    else:
        isolated = guest_in_complex.copy()
    isolated.set_cell(None)
    isolated.pbc = False
    report.log(
        f"E_int of {guest_in_complex.get_chemical_formula()} in {host.get_chemical_formula()} "
        f"({len(complex_)} atoms in the complex)"
    )
    report.progress(0, 3, stage="complex")
    e_complex, f_complex = energy_and_forces(complex_, calculator, "complex")
    report.progress(1, 3, stage="host", energy=e_complex)
    e_host, _ = energy_and_forces(host, calculator, "host")
    report.progress(2, 3, stage="guest", energy=e_host)
    e_guest, _ = energy_and_forces(isolated, calculator, "guest")
    report.progress(3, 3, stage="done", energy=e_guest)
    write_complex(report.workdir / "complex.extxyz", complex_, e_complex, f_complex)
    e_int = e_complex - e_host - e_guest
    _, distances = get_distances(guest_in_complex.positions, host.positions, cell=complex_.cell, pbc=complex_.pbc)
    result = {
        "interaction_energy_ev": e_int,
        "energy_complex_ev": e_complex,
        "energy_host_ev": e_host,
        "energy_guest_ev": e_guest,
        "guest_indices": idx.tolist(),
        "guest_formula": guest_in_complex.get_chemical_formula(),
        "guest_energy_geometry": "g2" if params.get("guest") else "as_in_complex",
        "min_host_guest_distance_a": float(distances.min()),  # minimum image
        "forces_complex_ev_per_a": f_complex.tolist(),
    }
    result.update(compare_reference(atoms, params, e_int, e_complex, f_complex))
    report.log(f"E_int = {e_int:.4f} eV")
    return result


def compare_reference(atoms, params, e_int, e_complex, f_complex) -> dict:
    ref = dict(params.get("reference") or {})
    info = atoms.info if params["mode"] == "complex" else {}
    for key, info_key in (("e_total_ev", "DFT_E_total"), ("e_host_ev", "DFT_E_mof"), ("e_guest_ev", "DFT_E_gas")):
        if ref.get(key) is None and info_key in info:
            ref[key] = float(info[info_key])
    if ref.get("forces_ev_per_a") is None and params["mode"] == "complex" and "REF_forces" in atoms.arrays:
        ref["forces_ev_per_a"] = atoms.arrays["REF_forces"].tolist()
    out = {}
    if ref.get("interaction_energy_ev") is None and all(ref.get(k) is not None for k in ("e_total_ev", "e_host_ev",
                                                                                         "e_guest_ev")):  # fmt: skip
        ref["interaction_energy_ev"] = ref["e_total_ev"] - ref["e_host_ev"] - ref["e_guest_ev"]
    if ref.get("interaction_energy_ev") is not None:
        out["reference_interaction_energy_ev"] = ref["interaction_energy_ev"]
        out["interaction_energy_error_ev"] = e_int - ref["interaction_energy_ev"]
    if ref.get("forces_ev_per_a") is not None:
        ref_f = np.asarray(ref["forces_ev_per_a"], dtype=float)
        if ref_f.shape != f_complex.shape:
            raise ExecutorError(f"reference forces have shape {ref_f.shape}, the complex needs {f_complex.shape}")
        out["force_mae_ev_per_a"] = float(np.abs(f_complex - ref_f).mean())
    return out
