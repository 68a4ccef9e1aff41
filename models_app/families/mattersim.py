"""MatterSim (M3GNet-based, float32), written against mattersim 1.2.3's ``MatterSimCalculator``.

The weights are always a local file: a registered ``model_path``, or the checkpoint mattersim
itself would fetch for ``model_name`` (``MatterSim-v1.0.0-1M`` / ``-5M``) from the URL its
``download_checkpoint`` builds, fetched once by a worker into the hub cache with its checksum
recorded (``models_app.families.hub``); the package's own download into ~/.local is never used.
Verification status: docs/models.md ("Which families were verified how").
"""

from models_app.families import ModelLoadError

# mattersim 1.2.3, mattersim/utils/download_utils.py: GITHUB_CHECKPOINT_PREFIX + checkpoint name
CHECKPOINT_PREFIX = "https://raw.githubusercontent.com/microsoft/mattersim/main/pretrained_models/"
CHECKPOINTS = {"mattersim-v1.0.0-1m": "mattersim-v1.0.0-1M.pth", "mattersim-v1.0.0-5m": "mattersim-v1.0.0-5M.pth"}
DEFAULT_MODEL = "MatterSim-v1.0.0-5M"


def hub_url(spec: dict) -> str:
    name = spec.get("model_name", DEFAULT_MODEL)
    checkpoint = CHECKPOINTS.get(name.lower().removesuffix(".pth"))
    if checkpoint is None:
        raise ModelLoadError(f"mattersim ships no model {name!r}; known: {', '.join(CHECKPOINTS.values())}")
    return CHECKPOINT_PREFIX + checkpoint


def build(spec: dict, device: str, dtype: str):
    from mattersim.forcefield import MatterSimCalculator

    if not spec.get("model_path"):
        raise ModelLoadError("MatterSim weights must be a local file (model_path, or fetched by the hub cache)")
    return MatterSimCalculator(load_path=spec["model_path"], device=device)
