"""MACE, any variant, from a file — only in the pickle-free format the sandbox converts to.

Uploads, ``register_model`` files, trained models and wheel-shipped models (``mace-dac-1``)
all reach workers as ``model.safetensors`` + JSON config (``models_app.mace_format``), so no
worker unpickles a MACE file. ``dtype`` is MACE's ``default_dtype`` (float64 or float32).

MACECalculator sets torch's process-wide default dtype when it is built, and its ``calculate``
builds tensors in the default dtype. A worker's model cache holds several models at once, so a
float64 MACE model would leave every later model (SevenNet is float32) failing on mixed dtypes.
The default is restored after building, and each calculation runs under the model's own dtype.
"""

from collections.abc import Iterator
from contextlib import contextmanager

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
    with default_dtype(dtype):
        calc = MACECalculator(models=model, device=device, default_dtype=dtype)
    return _in_own_dtype(calc, dtype)


@contextmanager
def default_dtype(dtype: str) -> Iterator[None]:
    """torch's default dtype set to ``dtype`` inside the block, put back even when it raises
    (mace's own ``torch_tools.default_dtype`` leaves it changed after an exception)."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, dtype))
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def _in_own_dtype(calc, dtype: str):
    """``calc`` whose every calculation runs with torch's default dtype set to ``dtype`` (and put back)."""
    inner = calc.calculate

    def calculate(*args, **kwargs):
        with default_dtype(dtype):
            return inner(*args, **kwargs)

    calc.calculate = calculate
    return calc
