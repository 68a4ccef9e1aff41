"""Built-in regression metrics for fitness prediction."""

import numpy as np
from scipy.stats import spearmanr


def spearman(y_true, y_pred) -> float:
    """Spearman ρ; 0.0 when either side is constant (a constant predictor ranks nothing)."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if len(y_true) < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return 0.0
    return float(spearmanr(y_true, y_pred).statistic)


def mse(y_true, y_pred) -> float:
    return float(np.mean((np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)) ** 2))
