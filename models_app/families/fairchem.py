"""fairchem 2.x (eSEN, UMA). UNTESTED here; written against fairchem-core 2's documented API.

``model_path`` (a registered checkpoint) → ``pretrained_mlip.load_predict_unit``; else
``model_name`` (``uma-s-1p1``, …) → ``pretrained_mlip.get_predict_unit``, which downloads from
Hugging Face (gated; a worker node with a token only). ``task_name`` picks the UMA head
(``omat`` for inorganic crystals and MOFs, ``odac`` for MOF + CO2/H2O).
"""


def build(spec: dict, device: str, dtype: str):
    from fairchem.core import FAIRChemCalculator, pretrained_mlip

    if spec.get("model_path"):
        predictor = pretrained_mlip.load_predict_unit(spec["model_path"], device=device)
    else:
        predictor = pretrained_mlip.get_predict_unit(spec.get("model_name", "uma-s-1p1"), device=device)
    return FAIRChemCalculator(predictor, task_name=spec.get("task_name", "omat"))
