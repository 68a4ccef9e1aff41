"""K-fold splits for DMS data, the three ProteinGym schemes.

* ``random`` — variants shuffled into k folds: measures interpolation between seen mutations.
* ``modulo`` — position p goes to fold (p-1) mod k: every fold sees nearby positions in training.
* ``contiguous`` — the sequence is cut into k contiguous blocks of positions: a test fold's
  positions were never mutated in training, so position-specific models must extrapolate.

Multi-mutants are placed by their first mutated position.
"""

import numpy as np

STRATEGIES = ("random", "modulo", "contiguous")


def make_folds(positions: np.ndarray, strategy: str, k: int = 5, seed: int = 0) -> np.ndarray:
    """Fold id (0..k-1) for each variant; every fold non-empty or ``ValueError``."""
    positions = np.asarray(positions)
    n = len(positions)
    if strategy == "random":
        order = np.random.default_rng(seed).permutation(n)
        folds = np.empty(n, dtype=int)
        folds[order] = np.arange(n) % k
    elif strategy == "modulo":
        folds = (positions - 1) % k
    elif strategy == "contiguous":
        unique = np.unique(positions)
        block = {int(p): i for i, chunk in enumerate(np.array_split(unique, k)) for p in chunk}
        folds = np.array([block[int(p)] for p in positions])
    else:
        raise ValueError(f"unknown split strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    empty = sorted(set(range(k)) - set(folds.tolist()))
    if empty:
        raise ValueError(f"{strategy} split leaves fold(s) {empty} empty: too few variants/positions for k={k}")
    return folds
