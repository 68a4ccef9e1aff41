"""Build an ASE calculator from a model spec (a plain dict; see ``MLModel.spec``).

Django-free so the benchmark harness and tests use the same code as workers. SevenNet weights
come from the sevenn wheel (trusted); MACE files are only ever read in the pickle-free format
the sandbox converts uploads to (``models_app.mace_format``), so no worker unpickles a user file.
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
    import mace  # noqa: F401  - e3nn 0.4.4 import order; nothing below unpickles
    from mace.calculators import MACECalculator

    from models_app.mace_format import FormatError, load_model  # after mace: e3nn import order

    path = spec.get("model_path")
    if not path:
        raise ModelLoadError("a MACE model needs a model file (model_path)")
    try:
        model = load_model(path, device)
    except FormatError as exc:
        raise ModelLoadError(f"{exc}; register the file again so it is converted (docs/models.md)") from exc
    return MACECalculator(models=model, device=device, default_dtype=spec.get("default_dtype", "float64"))


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
