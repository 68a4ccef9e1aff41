"""Parsed structures kept per worker process, keyed by the file's identity (issue 12).

A campaign runs the same structure under many task types, models and presets, and a worker
parsed its extXYZ again for every task (~0.5–1 ms of a near-no-op task's ~10 ms of Python).
``read`` keeps the parsed ``Atoms`` of the last ``MAX_STRUCTURES`` files and hands every caller
a copy of its own, so an executor that moves atoms or edits ``info`` changes nothing for the next
task. The key is the path with its inode, size and change times: a file replaced or rewritten is
parsed again. A structure whose file carries results (``read`` attaches a calculator, which a copy
drops) is not kept, so every caller gets exactly what a fresh parse gives.
"""

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ase import Atoms

MAX_STRUCTURES = 32
_lock = threading.Lock()
_parsed: OrderedDict[tuple, Atoms] = OrderedDict()


def read(path: Path, parse: Callable[[], Atoms]) -> Atoms:
    """``parse()``'s result for the file at ``path``, parsed once while the file is unchanged."""
    stat = Path(path).stat()
    key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    with _lock:
        atoms = _parsed.get(key)
        if atoms is not None:
            _parsed.move_to_end(key)
    if atoms is None:
        atoms = parse()
        if atoms.calc is not None:
            return atoms  # a copy would lose the file's results: not kept
        with _lock:
            _parsed[key] = atoms
            while len(_parsed) > MAX_STRUCTURES:
                _parsed.popitem(last=False)
    return _copy(atoms)


def _copy(atoms: Atoms) -> Atoms:
    """A copy sharing nothing mutable with the kept one (``Atoms.copy`` copies ``info`` shallowly)."""
    fresh = atoms.copy()
    fresh.info = copy.deepcopy(atoms.info)
    return fresh


def clear() -> None:
    with _lock:
        _parsed.clear()
