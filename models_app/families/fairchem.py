"""fairchem 2.x (eSEN, UMA). Verified with fairchem-core 2.24.0 in its own venv on a random eSEN
checkpoint (docs/models.md); no real UMA checkpoint was evaluated (gated, no internet here).

``model_path`` (a registered checkpoint, or one the hub cache fetched from ``weights_url``) →
``pretrained_mlip.load_predict_unit``; else ``model_name`` (``uma-s-1p1``, …, a key of
``pretrained_mlip.available_models``) → ``pretrained_mlip.get_predict_unit``, which downloads from
Hugging Face (gated; a worker node with a token only) through ``huggingface_hub`` into
``FAIRCHEM_CACHE_DIR`` — not the hub cache, so no checksum is recorded; where that matters give
the file (``model_path``) or a ``weights_url`` (fetched by the hub cache, checksummed) instead.
fairchem unpickles checkpoints (``weights_only=False``) and instantiates the classes their config
names: staff rows and trusted files only. ``task_name`` picks the UMA head (``omat`` for
inorganic crystals and MOFs, ``odac`` for MOF + CO2/H2O).

``inference_settings`` names one of fairchem's presets (``default``, ``batch``,
``high-precision``, …; default ``default``, fairchem's own). On a CPU ``default`` means
``multigpu``: ``torch.compile`` (needs a C compiler on the node, tens of seconds on the first
call, again when the atom count changes); ``batch`` runs uncompiled. ``dtype`` becomes the
preset's ``base_precision_dtype`` (float64 for finite-difference checks and tight relaxations).
"""

import dataclasses
import os

from models_app.families import ModelLoadError


def _settings(spec: dict, dtype: str):
    """fairchem's named preset with our dtype (a copy: the presets are shared module objects)."""
    import torch
    from fairchem.core.units.mlip_unit.api.inference import NAME_TO_INFERENCE_SETTING

    name = spec.get("inference_settings", "default")
    preset = NAME_TO_INFERENCE_SETTING.get(name)
    if preset is None:
        raise ModelLoadError(
            f"fairchem has no inference_settings {name!r}; known: {', '.join(NAME_TO_INFERENCE_SETTING)}"
        )
    return dataclasses.replace(preset, base_precision_dtype=getattr(torch, dtype))


def _predictor(spec: dict, device: str, settings):
    from fairchem.core import pretrained_mlip

    path = spec.get("model_path")
    if path:
        if not os.path.isfile(path):
            raise ModelLoadError(f"fairchem checkpoint {path!r} is not a file")
        return pretrained_mlip.load_predict_unit(path, settings, device=device)
    name = spec.get("model_name", "uma-s-1p1")
    if name not in pretrained_mlip.available_models:
        raise ModelLoadError(f"fairchem has no model {name!r}; known: {', '.join(pretrained_mlip.available_models)}")
    return pretrained_mlip.get_predict_unit(name, settings, device=device)


def build(spec: dict, device: str, dtype: str):
    from fairchem.core import FAIRChemCalculator

    predictor = _predictor(spec, device, _settings(spec, dtype))
    task = spec.get("task_name", "omat")
    if task not in predictor.dataset_to_tasks:
        raise ModelLoadError(
            f"this fairchem checkpoint has no task {task!r}; it has {', '.join(predictor.dataset_to_tasks)}"
        )
    return FAIRChemCalculator(predictor, task_name=task)
