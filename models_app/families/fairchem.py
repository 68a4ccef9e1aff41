"""fairchem 2.x (eSEN, UMA). Installs (own venv) but NOT exercised here: written against
fairchem-core 2.24's API (``load_predict_unit``, ``get_predict_unit``, ``FAIRChemCalculator``),
whose signatures were checked in that venv; no checkpoint was evaluated (docs/models.md).

``model_path`` (a registered checkpoint) → ``pretrained_mlip.load_predict_unit``; else
``model_name`` (``uma-s-1p1``, …) → ``pretrained_mlip.get_predict_unit``, which downloads from
Hugging Face (gated; a worker node with a token only) through ``huggingface_hub`` into
``FAIRCHEM_CACHE_DIR`` — not the hub cache, so no checksum is recorded; where that matters give
the file (``model_path``) or a ``weights_url`` (fetched by the hub cache, checksummed) instead.
fairchem unpickles checkpoints (``weights_only=False``) and instantiates the classes their config
names: staff rows and trusted files only. ``task_name`` picks the UMA head (``omat`` for
inorganic crystals and MOFs, ``odac`` for MOF + CO2/H2O).
"""


def build(spec: dict, device: str, dtype: str):
    from fairchem.core import FAIRChemCalculator, pretrained_mlip

    if spec.get("model_path"):
        predictor = pretrained_mlip.load_predict_unit(spec["model_path"], device=device)
    else:
        predictor = pretrained_mlip.get_predict_unit(spec.get("model_name", "uma-s-1p1"), device=device)
    return FAIRChemCalculator(predictor, task_name=spec.get("task_name", "omat"))
