"""Each task type's parameters as a scientist reads them: name, default per preset, unit/help.

Built from the same parameter serializers that validate the API and the form (``tasks_app.params``
and the registry), so the page can never document a parameter the server would refuse. Also turns
DRF's bare ``{"fmax": ["unknown parameter"]}`` into a message that lists the valid names.
"""

import json

from rest_framework import serializers

from mofsim_site import executors
from mofsim_site.executors import PRESET_CHOICES

UNKNOWN = "unknown parameter"
# Units follow the parameter names' suffixes (the house convention: fmax_ev_per_a, timestep_fs, …).
UNIT_SUFFIXES = (("fmax", "eV/Å"), ("_per_fs", "1/fs"), ("_fs", "fs"), ("_k", "K"), ("_thz", "THz"), ("_bar", "bar"),
                 ("_pct", "%"), ("_deg", "°"), ("_gpa", "GPa"), ("_a", "Å"))  # fmt: skip


def unit_of(name: str) -> str:
    if name == "eps":
        return "fraction of V0"
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), "")


def _show(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _type(field) -> str:
    if isinstance(field, serializers.ChoiceField):
        return "one of " + ", ".join(map(str, field.choices))
    if isinstance(field, serializers.BooleanField):
        return "true/false"
    if isinstance(field, serializers.IntegerField):
        return "integer"
    if isinstance(field, serializers.FloatField):
        return "number"
    if isinstance(field, serializers.ListField):
        return "list"
    if isinstance(field, serializers.Serializer):
        return "object"
    return "text"


def _range(field) -> str:
    lo, hi = getattr(field, "min_value", None), getattr(field, "max_value", None)
    if lo is not None and hi is not None:
        return f"{lo:g} … {hi:g}"
    if lo is not None:
        return f"≥ {lo:g}"
    return f"≤ {hi:g}" if hi is not None else ""


def describe(kind: str) -> list[dict]:
    """``[{"name", "type", "unit", "range", "help", "defaults": {preset: text}}]`` for ``kind``."""
    cls = executors.get(kind).load_params()
    out = []
    for name, field in cls().fields.items():
        default = None if callable(field.default) or field.default is serializers.empty else field.default
        out.append(
            {
                "name": name,
                "type": _type(field),
                "unit": unit_of(name),
                "range": _range(field),
                "help": str(field.help_text or ""),
                "defaults": {p: _show(cls.PRESETS.get(p, {}).get(name, default)) for p in PRESET_CHOICES},
            }
        )
    return out


def explain_errors(kind: str, detail) -> dict[str, list[str]]:
    """``{field: [messages]}`` with every "unknown parameter" naming the valid ones."""
    valid = ", ".join(sorted(executors.get(kind).load_params()().fields))
    label = executors.get(kind).label
    out: dict[str, list[str]] = {}
    for key, messages in detail.items() if isinstance(detail, dict) else [("params", detail)]:
        texts = [
            json.dumps(m) if isinstance(m, dict | list) else str(m)
            for m in (messages if isinstance(messages, list) else [messages])
        ]
        out[key] = [f"unknown parameter for {label}; valid names: {valid}" if t == UNKNOWN else t for t in texts]
    return out
