"""ORB (orb-models: v2, v3). UNTESTED here: written against orb-models 0.5's documented API.

``model_name`` is a key of ``orb_models.forcefield.pretrained.ORB_PRETRAINED_MODELS``
(``orb-v3-conservative-inf-omat``, ``orb-v2``, …). With ``model_path`` the weights come from a
registered file (``weights_path``); otherwise the package downloads them on first use — only on
a worker node, into its own cache (never in the web process). dtype maps to ORB's ``precision``.
"""

from models_app.families import ModelLoadError

PRECISION = {"float32": "float32-high", "float64": "float64"}


def build(spec: dict, device: str, dtype: str):
    from orb_models.forcefield import pretrained
    from orb_models.forcefield.calculator import ORBCalculator

    name = spec.get("model_name", "orb-v3-conservative-inf-omat")
    factory = pretrained.ORB_PRETRAINED_MODELS.get(name)
    if factory is None:
        raise ModelLoadError(f"orb-models has no model {name!r}")
    kwargs = {"device": device, "precision": PRECISION[dtype]}
    if spec.get("model_path"):
        kwargs["weights_path"] = spec["model_path"]
    return ORBCalculator(factory(**kwargs), device=device)
