"""Build an ASE calculator from a model spec (a plain dict; see ``MLModel.spec``).

Django-free so the benchmark harness and tests use the same code as workers. Each family's
builder lives in ``models_app.families.<family>`` (registry: ``models_app.families``); this
module picks it, checks the dtype against what the family computes in, and adds D3 the way
MOFSimBench does. SevenNet and CHGNet weights come from their wheels, checked against pinned
checksums; MACE files are only ever read in the pickle-free format the sandbox converts uploads
to (``models_app.mace_format``), so no worker unpickles a user file.
"""

from ase.calculators.mixing import SumCalculator

from models_app import families
from models_app.families import ModelLoadError, package_versions

__all__ = ["D3_CUTOFF_A", "ModelLoadError", "build_calculator", "build_d3", "package_versions"]

D3_CUTOFF_A = 40 * 0.52917721  # 40 Bohr, the MOFSimBench/torch-dftd default


def build_calculator(spec: dict, device: str, d3: bool = False):
    family = families.get(spec.get("family", ""))
    dtype = families.resolve_dtype(family, spec)
    try:
        calc = family.loader().build(spec, device, dtype)
    except ImportError as exc:
        raise ModelLoadError(
            f"this worker's environment cannot load {family.label} models ({exc}); "
            f"install requirements/models/{family.key}.txt or run it on a node that reports '{family.capability}'"
        ) from exc
    if d3:
        calc = SumCalculator([calc, build_d3(device)])
    return calc


def build_d3(device: str):
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    return TorchDFTD3Calculator(device=device, xc="pbe", damping="bj", cutoff=D3_CUTOFF_A)
