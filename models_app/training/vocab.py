"""One-hot encoding of sequences with a named vocabulary (IUPAC amino acids by default)."""

import numpy as np

from models_app.training import registry
from mofsim_site.executors import ExecutorError


def one_hot(sequences: list[str], vocabulary: str = "iupac") -> np.ndarray:
    """``(N, L, V)`` float32 array; ``ExecutorError`` for an unknown vocabulary or symbol."""
    alphabet = registry.VOCABULARIES.get(vocabulary)
    if alphabet is None:
        raise ExecutorError(f"unknown vocabulary {vocabulary!r}; known: {', '.join(sorted(registry.VOCABULARIES))}")
    index = {c: i for i, c in enumerate(alphabet)}
    length = len(sequences[0])
    codes = np.empty((len(sequences), length), dtype=np.int64)
    for row, seq in enumerate(sequences):
        try:
            codes[row] = [index[c] for c in seq]
        except KeyError as exc:
            raise ExecutorError(f"sequence {row}: symbol {exc.args[0]!r} is not in vocabulary {vocabulary!r}") from None
    out = np.zeros((len(sequences), length, len(alphabet)), dtype=np.float32)
    np.put_along_axis(out, codes[..., None], 1.0, axis=2)
    return out
