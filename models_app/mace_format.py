"""MACE models without pickle: a safetensors file whose header carries the model config as JSON.

A MACE ``.model`` file is a whole pickled ``torch.nn.Module``; loading it runs any code it holds.
The sandbox (``models_app.sandbox_child``) unpickles an upload once, with nothing to steal, and
writes this format; everything else (workers, fine-tuning, the parent's check) only ever calls
``load_model``, which rebuilds the module from the config and reads tensors with safetensors —
no pickle anywhere.

The config is what ``mace.tools.scripts_utils.extract_config_mace_model`` returns, made JSON:
classes and the gate function are stored by name and resolved only through the allow-lists
below, so a config cannot name an arbitrary callable. Django-free (it runs in the sandbox).
"""

import json
from pathlib import Path

FORMAT = "mofsim-mace-v1"
MODEL_CLASSES = ("ScaleShiftMACE",)
GATES = ("silu", "tanh", "abs", None)
# Plain-valued keys copied as they are (numbers, booleans, strings, lists of those).
_PLAIN = (
    "r_max", "num_bessel", "num_polynomial_cutoff", "max_ell", "num_interactions", "num_elements",
    "use_reduced_cg", "use_so3", "use_edge_irreps_first", "use_agnostic_product", "use_last_readout_only",
    "use_embedding_readout", "avg_num_neighbors", "correlation", "radial_type", "apply_cutoff", "radial_MLP",
    "pair_repulsion", "distance_transform", "heads", "atomic_numbers", "atomic_energies", "atomic_inter_scale",
    "atomic_inter_shift",
)  # fmt: skip
_IRREPS = ("hidden_irreps", "MLP_irreps", "edge_irreps")
_CLASSES = ("interaction_cls", "interaction_cls_first", "readout_cls")
# Upper bounds checked before a module is built, so a config cannot make the worker allocate
# without limit (the tensors must then still match the built shapes exactly).
_BOUNDS = {"num_interactions": 8, "max_ell": 4, "num_bessel": 64, "num_polynomial_cutoff": 16, "num_elements": 120}


class FormatError(Exception):
    """The file or its config is not something this module will build."""


def _allowed_classes() -> dict:
    from mace.modules import interaction_classes, readout_classes

    allowed = {cls.__name__: cls for cls in interaction_classes.values()}
    allowed.update({cls.__name__: cls for cls in readout_classes.values()})
    return allowed


def _gates() -> dict:
    import torch

    return {"silu": torch.nn.functional.silu, "tanh": torch.tanh, "abs": torch.abs, None: None}


def _plain(value):
    if hasattr(value, "tolist"):  # numpy arrays and tensors
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def config_to_json(model) -> dict:
    """Describe a loaded MACE module as a JSON-able dict (runs inside the sandbox)."""
    from mace.tools.scripts_utils import extract_config_mace_model

    name = type(model).__name__
    if name not in MODEL_CLASSES:
        raise FormatError(f"model class {name} is not supported (only {', '.join(MODEL_CLASSES)})")
    raw = extract_config_mace_model(model)
    if raw.get("cueq_config") is not None or raw.get("embedding_specs") is not None:
        raise FormatError("cuEquivariance and embedding-spec models are not supported")
    gate = raw.get("gate")
    gate_name = None if gate is None else getattr(gate, "__name__", repr(gate))
    if gate_name not in GATES:
        raise FormatError(f"gate {gate_name!r} is not supported")
    out = {"model_class": name, "gate": gate_name}
    out.update({key: _plain(raw[key]) for key in _PLAIN if key in raw})
    for key in _BOUNDS:  # mace reads some of these back from float buffers (p = 5.0 in real models)
        if isinstance(out.get(key), float) and out[key].is_integer():
            out[key] = int(out[key])
    out.update({key: None if raw.get(key) is None else str(raw[key]) for key in _IRREPS})
    out.update({key: raw[key].__name__ for key in _CLASSES})
    return out


def config_from_json(config: dict) -> tuple[type, dict]:
    """The model class and constructor kwargs for ``config``, refusing anything not allow-listed."""
    import numpy as np
    from e3nn import o3
    from mace import modules

    if config.get("model_class") not in MODEL_CLASSES:
        raise FormatError(f"model class {config.get('model_class')!r} is not allowed")
    if config.get("gate") not in GATES:
        raise FormatError(f"gate {config.get('gate')!r} is not allowed")
    unknown = set(config) - {"model_class", "gate", *_PLAIN, *_IRREPS, *_CLASSES}
    if unknown:
        raise FormatError(f"unknown config keys {sorted(unknown)}")
    for key, bound in _BOUNDS.items():
        if not isinstance(config.get(key), int) or not 0 < config[key] <= bound:
            raise FormatError(f"{key} must be an integer from 1 to {bound}")
    allowed = _allowed_classes()
    kwargs = {key: config[key] for key in _PLAIN if key in config}
    for key in _CLASSES:
        if config.get(key) not in allowed:
            raise FormatError(f"{key} {config.get(key)!r} is not allowed")
        kwargs[key] = allowed[config[key]]
    for key in _IRREPS:
        kwargs[key] = None if config.get(key) is None else o3.Irreps(config[key])
    kwargs["gate"] = _gates()[config["gate"]]
    kwargs["atomic_energies"] = np.asarray(config["atomic_energies"], dtype=float)
    for key in ("atomic_inter_scale", "atomic_inter_shift"):
        kwargs[key] = np.asarray(config[key], dtype=float)
    return getattr(modules, config["model_class"]), kwargs


def save_model(model, path: Path, meta: dict | None = None) -> None:
    """Write ``model`` as safetensors + JSON config (the header's ``mofsim`` entry)."""
    import torch
    from safetensors.torch import save_file

    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    header = {"format": FORMAT, "dtype": dtype, "config": config_to_json(model), **(meta or {})}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if any(not isinstance(v, torch.Tensor) for v in state.values()):
        raise FormatError("state dict holds non-tensor values")
    state.update(_architecture_flags(header["config"], state))
    save_file(state, str(path), metadata={"mofsim": json.dumps(header)})


def _architecture_flags(config: dict, state: dict) -> dict:
    """``*_zeroed`` buffers a model pickled by an older mace lacks (e.g. mace-dac-1, mace 0.3.6).

    They are flags the installed mace derives from the architecture alone, so they are taken
    from a module built from the same config; any other missing tensor still fails the strict
    load in ``load_model``, and the parent still requires the original module's numbers.
    """
    cls, kwargs = config_from_json(config)
    fresh = cls(**kwargs).state_dict()
    return {k: v for k, v in fresh.items() if k not in state and k.endswith("_zeroed")}


def read_header(path: Path) -> dict:
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = (fh.metadata() or {}).get("mofsim")
    except SafetensorError as exc:
        raise FormatError(f"{Path(path).name} is not a converted MACE model ({exc})") from exc
    if not raw:
        raise FormatError(f"{Path(path).name} is not a converted MACE model (no mofsim header)")
    header = json.loads(raw)
    if header.get("format") != FORMAT:
        raise FormatError(f"unknown format {header.get('format')!r}")
    return header


def load_model(path: Path, device: str = "cpu"):
    """Rebuild the module from the header's config and load its tensors: no pickle involved."""
    import torch
    from safetensors.torch import load_file

    header = read_header(path)
    dtype = {"float64": torch.float64, "float32": torch.float32}.get(header.get("dtype"))
    if dtype is None:
        raise FormatError(f"dtype {header.get('dtype')!r} is not supported")
    cls, kwargs = config_from_json(header["config"])
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = cls(**kwargs)
    finally:
        torch.set_default_dtype(previous)
    model.load_state_dict(load_file(str(path)), strict=True)
    return model.to(device=device, dtype=dtype).eval()


def reference_atoms(atomic_numbers):
    """The small periodic cell both the sandbox and the parent evaluate (same numbers expected)."""
    from ase import Atoms

    z = [int(n) for n in atomic_numbers][:3] or [6]
    z = (z * 3)[:3]
    positions = [[0.0, 0.0, 0.0], [1.4, 0.3, 0.2], [0.2, 1.5, 0.9]]
    return Atoms(numbers=z, positions=positions, cell=[6.0, 6.2, 6.4], pbc=True)


def evaluate(calc, atoms) -> dict:
    """Energy, forces and stress of ``atoms`` as plain lists (what the sandbox reports)."""
    atoms = atoms.copy()
    atoms.calc = calc
    return {
        "energy": float(atoms.get_potential_energy()),
        "forces": atoms.get_forces().tolist(),
        "stress": atoms.get_stress().tolist(),
    }
