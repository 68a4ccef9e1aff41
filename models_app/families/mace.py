"""MACE, any variant, from a file — only in the pickle-free format the sandbox converts to.

Uploads, ``register_model`` files, trained models and wheel-shipped models (``mace-dac-1``)
all reach workers as ``model.safetensors`` + JSON config (``models_app.mace_format``), so no
worker unpickles a MACE file. ``dtype`` is MACE's ``default_dtype`` (float64 or float32).
"""

from models_app.families import ModelLoadError


def build(spec: dict, device: str, dtype: str):
    import mace  # noqa: F401  - e3nn 0.4.4 import order; nothing below unpickles
    from mace.calculators import MACECalculator

    from models_app.mace_format import FormatError, load_model

    path = spec.get("model_path")
    if not path:
        raise ModelLoadError("a MACE model needs a model file (model_path)")
    try:
        model = load_model(path, device)
    except FormatError as exc:
        raise ModelLoadError(f"{exc}; register the file again so it is converted (docs/models.md)") from exc
    return MACECalculator(models=model, device=device, default_dtype=dtype)
