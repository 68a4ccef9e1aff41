"""Any ASE calculator by dotted path (``package.module:Class`` or ``package.module.Class``).

Staff only: the class is imported and called with ``kwargs`` on a worker, so registering one is
choosing code to run there (the API and ``register_model`` refuse it from non-staff). With
``device_kwarg`` set, the worker's device is passed under that keyword; with ``path_kwarg``, the
model's weight file (``model_path``: a registered file, or ``weights_url`` fetched into the hub
cache by ``models_app.families.hub``) under that one.
"""

import importlib

from models_app.families import ModelLoadError


def resolve(path: str):
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ModelLoadError(f"calculator {path!r} is not a dotted path like 'package.module:Class'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"calculator {path!r} cannot be imported here: {exc}") from exc


def build(spec: dict, device: str, dtype: str):
    path = spec.get("calculator")
    if not path:
        raise ModelLoadError("an 'ase' model needs config.calculator, a dotted path to an ASE calculator class")
    kwargs = dict(spec.get("kwargs") or {})
    if spec.get("device_kwarg"):
        kwargs[spec["device_kwarg"]] = device
    if spec.get("path_kwarg"):
        if not spec.get("model_path"):
            raise ModelLoadError("config.path_kwarg is set but the model has no file (model_path or weights_url)")
        kwargs[spec["path_kwarg"]] = spec["model_path"]
    return resolve(path)(**kwargs)
