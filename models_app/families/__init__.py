"""The model-family registry: one loader module per family, one capability name each.

A *family* is a way of turning a registered model into an ASE calculator (MACE, SevenNet,
CHGNet, …). Families pin incompatible versions of torch, e3nn and friends, so no single
environment can load them all: a worker node reports the families its own environment imports
(``available()``, at boot), and the claim gives a task only to a node that reports its model's
family (``tasks_app.scheduler``). A family's capability name is its key (``"mace"``), the same
string stored in ``MLModel.family``.

Each loader module (``models_app.families.<key>``) is plain Python, imported lazily, and
defines ``build(spec, device, dtype) -> Calculator``. Its package pins live in
``requirements/models/<key>.txt``. docs/models.md says how to add one and which were verified how.
"""

import functools
import importlib
import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """The model cannot be built here (bad spec, missing package, wrong checksum); said to the user."""


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    probe: tuple[str, ...]  # modules that must import for a node to offer the family
    distributions: tuple[str, ...]  # packages whose versions every result records
    dtypes: tuple[str, ...] = ("float32",)  # what the family can compute in; first is the default
    staff_only: bool = False  # registering such a model runs code chosen by its registrant

    @property
    def capability(self) -> str:
        return self.key

    def loader(self):
        return importlib.import_module(f"models_app.families.{self.key}")


FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family("emt", "ASE EMT (test calculator)", ("ase.calculators.emt",), (), ("float64",)),
        Family("mace", "MACE", ("mace.calculators",), ("mace-torch", "e3nn"), ("float64", "float32")),
        Family("sevennet", "SevenNet", ("mace", "sevenn.calculator"), ("sevenn", "e3nn")),
        Family("chgnet", "CHGNet", ("chgnet.model",), ("chgnet", "pymatgen")),
        Family("orb", "ORB", ("orb_models.forcefield",), ("orb-models",), ("float32", "float64")),
        Family("mattersim", "MatterSim", ("mattersim.forcefield",), ("mattersim",)),
        Family("fairchem", "fairchem (eSEN, UMA)", ("fairchem.core",), ("fairchem-core",), ("float32", "float64")),
        Family("grace", "GRACE (tensorpotential)", ("tensorpotential.calculator",), ("tensorpotential", "tensorflow")),
        Family("petmad", "PET-MAD", ("pet_mad.calculator",), ("pet-mad", "metatrain"), ("float32", "float64")),
        Family("ase", "ASE calculator by dotted path (staff)", ("ase",), (), ("float64",), staff_only=True),
    )
}

CHOICES = [(f.key, f.label) for f in FAMILIES.values()]


def get(key: str) -> Family:
    family = FAMILIES.get(key)
    if family is None:
        raise ModelLoadError(f"unknown model family {key!r}; known: {', '.join(FAMILIES)}")
    return family


@functools.cache  # importlib.metadata reads the installed packages' files (~40 ms a call): once per process
def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def probe(family: Family) -> dict | None:
    """Import the family's modules; its package versions when they import, else None."""
    try:
        for module in family.probe:
            importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any failure to import means "cannot run it here"
        logger.info("model family %s unavailable here: %s: %s", family.key, type(exc).__name__, exc)
        return None
    return {name: _version(name) for name in family.distributions}


_available: dict[str, dict] | None = None


def available(refresh: bool = False) -> dict[str, dict]:
    """``{family: {package: version}}`` for every family this environment can load (probed once).

    ``mace`` is probed first: importing it sets the torch.load default e3nn 0.4.4 needs
    (docs/models.md), which the SevenNet probe relies on.
    """
    global _available
    if _available is None or refresh:
        found = {}
        for family in FAMILIES.values():
            versions = probe(family)
            if versions is not None:
                found[family.key] = versions
        _available = found  # published whole: the heartbeat thread never sees a partial probe
    return _available


def probed() -> bool:
    """Whether ``available()`` has run in this process (heartbeats do not wait for the probe)."""
    return _available is not None


def package_versions(key: str) -> dict:
    """Versions recorded in every result's provenance (DESIGN.md rule 8)."""
    names = ["ase", "phonopy", "torch", "numpy"]
    family = FAMILIES.get(key)
    if family is not None:
        names += list(family.distributions)
    return {name: _version(name) for name in names}


def resolve_dtype(family: Family, spec: dict) -> str:
    """The dtype a spec asks for (``dtype``, or MACE's ``default_dtype``), checked against the family."""
    dtype = spec.get("dtype") or spec.get("default_dtype") or family.dtypes[0]
    if dtype not in family.dtypes:
        raise ModelLoadError(f"{family.label} runs in {' or '.join(family.dtypes)}, not {dtype}")
    return dtype
