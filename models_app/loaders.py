"""Build an ASE calculator from a model spec (a plain dict; see ``MLModel.spec``).

Django-free so the benchmark harness and tests use the same code as workers. Loading model
files unpickles them (torch.load): call this only in worker processes, never in the web process
(uploaded files are validated in a separate, resource-limited subprocess — models_app.validation).
"""

from ase.calculators.mixing import SumCalculator

D3_CUTOFF_A = 40 * 0.52917721  # 40 Bohr, the MOFSimBench/torch-dftd default


class ModelLoadError(Exception):
    pass


def build_calculator(spec: dict, device: str, d3: bool = False):
    family = spec.get("family")
    builder = _BUILDERS.get(family)
    if builder is None:
        raise ModelLoadError(f"unknown model family {family!r}")
    calc = builder(spec, device)
    if d3:
        calc = SumCalculator([calc, build_d3(device)])
    return calc


def build_d3(device: str):
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    return TorchDFTD3Calculator(device=device, xc="pbe", damping="bj", cutoff=D3_CUTOFF_A)


def _emt(spec, device):
    from ase.calculators.emt import EMT

    return EMT()


def _sevennet(spec, device):
    import mace  # noqa: F401  - imported first: e3nn 0.4.4 needs its torch.load setting (docs/models.md)
    from sevenn.sevennet_calculator import SevenNetCalculator

    model = spec.get("model_path") or spec.get("model_name", "7net-0")
    return SevenNetCalculator(model, device=device, **spec.get("kwargs", {}))


def _mace(spec, device):
    from mace.calculators import MACECalculator

    path = spec.get("model_path")
    if not path:
        raise ModelLoadError("a MACE model needs a model file (model_path)")
    return MACECalculator(model_paths=path, device=device, default_dtype=spec.get("default_dtype", "float64"))


_BUILDERS = {"emt": _emt, "sevennet": _sevennet, "mace": _mace}


def package_versions(family: str) -> dict:
    """Versions recorded in every result's provenance (DESIGN.md rule 8)."""
    from importlib.metadata import PackageNotFoundError, version

    names = ["ase", "phonopy", "torch", "numpy"]
    names += {"sevennet": ["sevenn"], "mace": ["mace-torch"], "emt": []}.get(family, [])
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
