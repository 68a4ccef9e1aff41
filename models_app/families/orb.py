"""ORB (orb-models: v2, v3). Verified with orb-models 0.5.5 in its own venv (docs/models.md).

``model_name`` is a key of ``orb_models.forcefield.pretrained.ORB_PRETRAINED_MODELS``
(``orb-v3-conservative-inf-omat``, ``orb-v2``, …); it picks the architecture. The weights are
always a local file: a registered ``model_path``, or the checkpoint at the URL the package's
factory would download from (``hub_url``), which a worker fetches once into the hub cache with
its checksum recorded (``models_app.families.hub``). The package's own downloader
(``cached_path`` into ~/.cache) is never used. ORB reads checkpoints with
``torch.load(weights_only=True)`` (no pickle code). dtype maps to ORB's ``precision``.
"""

import inspect

from models_app.families import ModelLoadError

PRECISION = {"float32": "float32-high", "float64": "float64"}
DEFAULT_MODEL = "orb-v3-conservative-inf-omat"


def _factory(spec: dict):
    from orb_models.forcefield import pretrained

    name = spec.get("model_name", DEFAULT_MODEL)
    factory = pretrained.ORB_PRETRAINED_MODELS.get(name)
    if factory is None:
        raise ModelLoadError(f"orb-models has no model {name!r}")
    return factory


def hub_url(spec: dict) -> str:
    """The checkpoint URL orb-models itself would download for ``model_name``."""
    default = inspect.signature(_factory(spec)).parameters["weights_path"].default
    if not isinstance(default, str) or not default.startswith("https://"):
        raise ModelLoadError(f"orb-models names no download URL for {spec.get('model_name', DEFAULT_MODEL)!r}")
    return default


def build(spec: dict, device: str, dtype: str):
    from orb_models.forcefield.calculator import ORBCalculator

    if not spec.get("model_path"):
        raise ModelLoadError("ORB weights must be a local file (model_path, or fetched by the hub cache)")
    model = _factory(spec)(weights_path=spec["model_path"], device=device, precision=PRECISION[dtype], compile=False)
    return ORBCalculator(model, device=device)
