"""CHGNet: the pretrained checkpoints inside the chgnet wheel (0.3.0, 0.2.0, r2scan), float32.

The file is located the way ``CHGNet.load`` does (``chgnet/pretrained/<name>/*.pth.tar``) and
checked against the pinned SHA-256 before the package reads it.
"""

from pathlib import Path

from models_app.families import ModelLoadError, weights

CHECKPOINTS = {
    "0.3.0": "0.3.0/chgnet_0.3.0_e29f68s314m37.pth.tar",
    "0.2.0": "0.2.0/chgnet_0.2.0_e30f77s348m32.pth.tar",
    "r2scan": "r2scan/chgnet_r2scan_transfer_learning_e15f36s161m23.pth.tar",
}


def checkpoint_path(model_name: str) -> Path:
    import chgnet

    rel = CHECKPOINTS.get(model_name)
    if rel is None:
        raise ModelLoadError(f"no CHGNet model {model_name!r}; the wheel ships {', '.join(CHECKPOINTS)}")
    return Path(chgnet.__file__).parent / "pretrained" / rel


def build(spec: dict, device: str, dtype: str):
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    model_name = spec.get("model_name", "0.3.0")
    weights.verify(checkpoint_path(model_name), spec.get("weights_sha256"), f"CHGNet {model_name}")
    model = CHGNet.load(model_name=model_name, use_device=device, verbose=False)
    return CHGNetCalculator(model, use_device=device)
