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

Engines (``params["engine"]``, docs/batching.md): ``run`` puts the three structures through one
``BatchedEngine.evaluate`` (the isolated guest is just a structure without a cell; only energies
and forces are used), or through the ASE calculator one after another (the reference path).
Several tasks share one pass through ``evaluate_together`` / ``run_from_pass`` (``executors.grouped``).
Both paths build the result with ``_result``, so the numbers do not depend on the path.
"""

import math
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.geometry import get_distances
from ase.io import write

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine

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


STAGES = ("complex", "host", "guest")


@dataclass
class Prepared:
    """The three structures of one task (``complex_``, ``host``, ``isolated`` guest: no cell, no
    periodicity) and what its result needs besides their energies."""

    complex_: Atoms
    host: Atoms
    guest_in_complex: Atoms
    idx: np.ndarray
    isolated: Atoms

    @property
    def structures(self) -> list[Atoms]:
        """In ``STAGES`` order: what one batched ``evaluate`` gets."""
        return [self.complex_, self.host, self.isolated]


@dataclass
class Evaluated:
    """One task's share of an across-task pass (``evaluate_together``): its three outcomes, or the
    error that stopped it before the pass, and its speed meter."""

    prepared: Prepared | None
    outcomes: list
    meter: SpeedMeter
    error: Exception | None = None


def prepare(atoms, params) -> Prepared:
    complex_, host, guest_in_complex, idx = assemble(atoms, params)
    if params.get("guest"):
        isolated = build_guest(params["guest"])
        if sorted(isolated.get_chemical_symbols()) != sorted(guest_in_complex.get_chemical_symbols()):
            raise ExecutorError(f"guest atoms {guest_in_complex.get_chemical_formula()} are not {params['guest']}")
    else:
        isolated = guest_in_complex.copy()
    isolated.set_cell(None)
    isolated.pbc = False
    return Prepared(complex_, host, guest_in_complex, idx, isolated)


def _start(prepared: Prepared, report) -> None:
    report.log(
        f"E_int of {prepared.guest_in_complex.get_chemical_formula()} in {prepared.host.get_chemical_formula()} "
        f"({len(prepared.complex_)} atoms in the complex)"
    )
    report.progress(0, 3, stage="complex")


def energy_and_forces(atoms, calculator, what: str):
    atoms.calc = calculator
    energy = float(atoms.get_potential_energy())
    check_energy(energy, f" ({what})")
    return energy, atoms.get_forces().copy()


def from_outcome(outcome, what: str) -> tuple[float, np.ndarray]:
    """A batched outcome's energy and forces, failing as the ASE path does (explosion guard)."""
    if outcome.energy is not None and not math.isfinite(outcome.energy):
        check_energy(outcome.energy, f" ({what})")  # the ASE path's message
    if not outcome.ok:
        raise ExecutorError(f"the model could not evaluate the {what}: {outcome.error}")
    check_energy(outcome.energy, f" ({what})")
    return outcome.energy, np.array(outcome.forces)


def write_complex(path, complex_, energy, forces) -> None:
    """Artifact: the complex with tags, energy and forces only (free of host ``info`` baggage)."""
    out = Atoms(complex_.numbers, complex_.positions, cell=complex_.cell, pbc=complex_.pbc, tags=complex_.get_tags())
    out.calc = SinglePointCalculator(out, energy=energy, forces=forces)
    write(path, out)


def run(atoms, calculator, params, report) -> dict:
    """One task: the three energies through the batched engine in one ``evaluate`` (packed as the
    engine decides), or one after another through the ASE calculator (``engine: "ase"``, a model
    without a batched path, or a task whose params predate the choice)."""
    prepared = prepare(atoms, params)
    engine = choose_engine(calculator, params, report)
    meter = SpeedMeter(engine, calculator)
    _start(prepared, report)
    if engine is not None:
        outcomes = engine.evaluate(prepared.structures, report.check)
        for structure in prepared.structures:
            meter.add(len(structure))
        return _result(atoms, prepared, [from_outcome(o, w) for o, w in zip(outcomes, STAGES, strict=True)], meter,
                       params, report)  # fmt: skip
    computed = []
    for k, (structure, what) in enumerate(zip(prepared.structures, STAGES, strict=True)):
        if k:
            report.progress(k, 3, stage=what, energy=computed[-1][0])
        computed.append(energy_and_forces(structure, calculator, what))
        meter.add(len(structure))
    return _result(atoms, prepared, computed, meter, params, report, progressed=True)


def evaluate_together(engine, jobs, check) -> list[Evaluated]:
    """The three structures of every job (``(atoms, params, report)``) in one ``evaluate`` — 3N
    structures, packed as the engine decides; one ``Evaluated`` per job, in order. A job whose
    structures cannot be built (e.g. its guest is not what ``guest`` names) carries its error, raised
    by its own ``run_from_pass``, and adds nothing to the pass."""
    items, structures = [], []
    for atoms, params, report in jobs:
        meter = SpeedMeter(engine, None)
        try:
            prepared = prepare(atoms, params)
        except Exception as exc:  # noqa: BLE001 - that task's failure (re-raised by its finish), not the pass's
            items.append(Evaluated(None, [], meter, exc))
            continue
        _start(prepared, report)
        items.append(Evaluated(prepared, [], meter))
        structures.extend(prepared.structures)
    outcomes = iter(engine.evaluate(structures, check))
    for item in items:
        if item.prepared is not None:
            item.outcomes = [next(outcomes) for _ in STAGES]
            for structure in item.prepared.structures:
                item.meter.add(len(structure))
    return items


def run_from_pass(atoms, calculator, params, report, *, evaluated: Evaluated) -> dict:
    """The task's result from its share of ``evaluate_together`` (``calculator`` unused: the pass
    is done): the same checks, progress, file and log as ``run``."""
    if evaluated.error is not None:
        raise evaluated.error
    assert evaluated.prepared is not None
    computed = [from_outcome(o, w) for o, w in zip(evaluated.outcomes, STAGES, strict=True)]
    return _result(atoms, evaluated.prepared, computed, evaluated.meter, params, report)


def _result(atoms, prepared: Prepared, computed, meter: SpeedMeter, params, report, progressed=False) -> dict:
    """Result of either path from the three (energy, forces) in ``STAGES`` order. The ASE path
    reported progress as it went (``progressed``); a batched one reports the same points now."""
    (e_complex, f_complex), (e_host, _), (e_guest, _) = computed
    if not progressed:
        report.progress(1, 3, stage="host", energy=e_complex)
        report.progress(2, 3, stage="guest", energy=e_host)
    report.progress(3, 3, stage="done", energy=e_guest)
    complex_, host, guest_in_complex = prepared.complex_, prepared.host, prepared.guest_in_complex
    write_complex(report.workdir / "complex.extxyz", complex_, e_complex, f_complex)
    e_int = e_complex - e_host - e_guest
    _, distances = get_distances(guest_in_complex.positions, host.positions, cell=complex_.cell, pbc=complex_.pbc)
    result = {
        "interaction_energy_ev": e_int,
        "energy_complex_ev": e_complex,
        "energy_host_ev": e_host,
        "energy_guest_ev": e_guest,
        "guest_indices": prepared.idx.tolist(),
        "guest_formula": guest_in_complex.get_chemical_formula(),
        "guest_energy_geometry": "g2" if params.get("guest") else "as_in_complex",
        "min_host_guest_distance_a": float(distances.min()),  # minimum image
        "forces_complex_ev_per_a": f_complex.tolist(),
    }
    result.update(compare_reference(atoms, params, e_int, e_complex, f_complex))
    result["engine"] = meter.record()
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
