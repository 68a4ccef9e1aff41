"""Per-process model cache (DESIGN.md rule 4): a worker loads each model once and keeps it.

The key includes the file checksum, so a re-uploaded model under the same name is reloaded.
``unload`` frees GPU memory when an operator asks or a worker must make room.
"""

import gc
import threading

from models_app.loaders import build_calculator

# Loading a model can take minutes. The lock serialises loads and unloads only; readers such as
# the heartbeat thread's ``loaded_names`` never wait for it (a heartbeat that waited behind an
# 80 s model load once got a busy worker declared dead).
_lock = threading.Lock()
_cache: dict[tuple, object] = {}


def _key(spec: dict, device: str, d3: bool) -> tuple:
    return (spec.get("name"), spec.get("family"), spec.get("sha256", ""), device, bool(d3))


def get_calculator(spec: dict, device: str, d3: bool = False):
    key = _key(spec, device, d3)
    calc = _cache.get(key)
    if calc is not None:
        return calc
    with _lock:
        calc = _cache.get(key)
        if calc is None:
            calc = build_calculator(spec, device, d3=d3)
            _cache[key] = calc
        return calc


def loaded_names() -> list[str]:
    return sorted({key[0] for key in list(_cache)})


def unload(name: str | None = None) -> int:
    with _lock:
        keys = [k for k in _cache if name is None or k[0] == name]
        for key in keys:
            del _cache[key]
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
    return len(keys)
