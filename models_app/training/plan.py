"""Experiment plans: hierarchical keys (``train.lr``) mapped onto job parameters.

A plan may be flat (``{"train.lr": 1e-3}``) or nested (``{"train": {"lr": 1e-3}}``); it is
flattened, every key checked against the kind's whitelist (a typo must not silently fall back
to a default), and stored verbatim with the job (``plan.json`` artifact).
"""

from rest_framework import serializers

PLAN_KEYS = {
    "train_dms": {
        "train.lr": "lr",
        "train.batch_size": "batch_size",
        "train.max_epochs": "epochs",
        "train.seed": "seed",
        "train.val_fraction": "val_fraction",
        "model.name": "model",
        "model.channels": "channels",
        "model.kernel_size": "kernel_size",
        "model.hidden": "hidden",
        "model.ridge_alpha": "ridge_alpha",
        "data.vocab": "vocab",
        "split.strategy": "split",
        "split.folds": "folds",
        "eval.metrics": "metrics",
    },
    "train_mace": {
        "train.lr": "lr",
        "train.batch_size": "batch_size",
        "train.max_epochs": "epochs",
        "train.seed": "seed",
        "train.energy_weight": "energy_weight",
        "train.forces_weight": "forces_weight",
        "model.name": "model_name",
        "model.base": "base_model",
        "model.r_max": "r_max",
        "model.hidden_irreps": "hidden_irreps",
        "model.num_interactions": "num_interactions",
        "model.max_ell": "max_ell",
        "model.correlation": "correlation",
        "split.valid_fraction": "valid_fraction",
    },
}


def flatten(plan: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in plan.items():
        if not isinstance(key, str) or not key:
            raise serializers.ValidationError({"plan": ["keys must be non-empty strings"]})
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, full))
        else:
            out[full] = value
    return out


def plan_to_params(kind: str, plan) -> tuple[dict, dict]:
    """``(flat_plan, param_overrides)`` or ``ValidationError`` naming the bad key."""
    if plan in (None, ""):
        return {}, {}
    if not isinstance(plan, dict):
        raise serializers.ValidationError({"plan": ["must be a JSON object"]})
    flat = flatten(plan)
    allowed = PLAN_KEYS[kind]
    unknown = sorted(set(flat) - set(allowed))
    if unknown:
        raise serializers.ValidationError(
            {"plan": [f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"]}
        )
    return flat, {allowed[key]: value for key, value in flat.items()}
