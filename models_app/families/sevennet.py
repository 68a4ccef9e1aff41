"""SevenNet: the checkpoints shipped inside the sevenn 0.10.4 wheel, checked against pinned SHA-256s.

sevenn 0.10.4 ships three: ``7net-0`` (= 7net-0_11Jul2024), ``7net-0_22May2024`` and
``7net-l3i5`` (``sevenn.util.pretrained_name_to_path``). Models are float32. Uploaded SevenNet
files are refused (no pickle-free converter yet; docs/models.md).
"""

from pathlib import Path

from models_app.families import ModelLoadError, weights


def checkpoint_path(model_name: str) -> Path:
    from sevenn.util import pretrained_name_to_path

    try:
        return Path(pretrained_name_to_path(model_name))
    except ValueError as exc:
        raise ModelLoadError(f"sevenn {_sevenn_version()} ships no SevenNet model {model_name!r}") from exc


def _sevenn_version() -> str:
    from importlib.metadata import version

    return version("sevenn")


def build(spec: dict, device: str, dtype: str):
    import mace  # noqa: F401  - imported first: e3nn 0.4.4 needs its torch.load setting (docs/models.md)
    from sevenn.calculator import SevenNetCalculator

    model_name = spec.get("model_name", "7net-0")
    path = checkpoint_path(model_name)
    weights.verify(path, spec.get("weights_sha256"), f"SevenNet {model_name}")
    return SevenNetCalculator(str(path), device=device, **spec.get("kwargs", {}))
