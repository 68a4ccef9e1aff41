"""Per-process model cache (DESIGN.md rule 4): a worker loads each model once and keeps it.

The key includes the file checksum, so a re-uploaded model under the same name is reloaded.
The cache is bounded (``MOFSIM_MODEL_CACHE_SIZE``, ``mofsim_site.worker_config``): loading one
more model than that unloads the least recently used, so a node that serves many models does not
fill its GPU memory. ``unload`` frees memory when an operator asks (node commands).
"""

import gc
import threading
from collections import OrderedDict

from models_app.loaders import build_calculator
from mofsim_site.worker_config import worker_config

# Loading a model can take minutes. The lock serialises loads and unloads only; readers such as
# the heartbeat thread's ``loaded_names`` never wait for it (a heartbeat that waited behind an
# 80 s model load once got a busy worker declared dead).
_lock = threading.Lock()
_cache: OrderedDict[tuple, object] = OrderedDict()  # least recently used first


def _key(spec: dict, device: str, d3: bool) -> tuple:
    return (spec.get("name"), spec.get("family"), spec.get("sha256", ""), device, bool(d3))


def get_calculator(spec: dict, device: str, d3: bool = False):
    key = _key(spec, device, d3)
    calc = _cache.get(key)
    if calc is not None:
        _touch(key)
        return calc
    with _lock:
        calc = _cache.get(key)
        if calc is None:
            calc = build_calculator(spec, device, d3=d3)
            _cache[key] = calc
            _evict_beyond(worker_config().model_cache_size)
        return calc


def _touch(key: tuple) -> None:
    try:
        _cache.move_to_end(key)
    except KeyError:  # unloaded meanwhile by another thread: nothing to mark
        pass


def _evict_beyond(size: int) -> None:
    """Drop the least recently used entries past ``size`` (called with the lock held)."""
    evicted = 0
    while len(_cache) > size:
        _cache.popitem(last=False)
        evicted += 1
    if evicted:
        _free_memory()


def loaded_names() -> list[str]:
    return sorted({key[0] for key in list(_cache)})


def unload(name: str | None = None) -> int:
    with _lock:
        keys = [k for k in _cache if name is None or k[0] == name]
        for key in keys:
            del _cache[key]
    _free_memory()
    return len(keys)


def _free_memory() -> None:
    gc.collect()
    try:
        import torch  # noqa: PLC0415 - only where memory is freed; the module stays cheap to import

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
