"""Named vocabularies, DMS models and metrics — built-ins plus operator plugins.

Operators drop Python modules into ``<WORKDIR>/plugins/{vocab,model,metrics}/``; each module
registers itself with ``register_vocabulary`` / ``register_model`` / ``register_metric`` when
imported. Plugins are arbitrary code, so only workers load them (``load_plugins`` is called by
the job shell, never by the web process); the web process only checks names syntactically.
"""

import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from models_app.datasets.alphabet import IUPAC_PROTEIN
from models_app.training import dms_models, metrics

logger = logging.getLogger(__name__)

VOCABULARIES: dict[str, str] = {}
MODELS: dict[str, Callable] = {}
METRICS: dict[str, Callable] = {}
PLUGIN_KINDS = ("vocab", "model", "metrics")
_loaded: dict[str, float] = {}


def register_vocabulary(name: str, alphabet: str) -> None:
    """``alphabet``: one character per token; order fixes the one-hot columns."""
    if len(set(alphabet)) != len(alphabet) or not alphabet:
        raise ValueError(f"vocabulary {name!r}: alphabet must be non-empty without repeats")
    VOCABULARIES[name] = alphabet


def register_model(name: str, factory: Callable) -> None:
    """``factory(seq_len, vocab_size, params) -> torch.nn.Module`` mapping (N, L, V) one-hot to (N,)."""
    MODELS[name] = factory


def register_metric(name: str, fn: Callable) -> None:
    """``fn(y_true, y_pred) -> float``; reported per fold next to Spearman and MSE."""
    METRICS[name] = fn


def load_plugins(root: Path) -> list[str]:
    """Import every ``*.py`` under ``root/{vocab,model,metrics}`` once (again if it changed).

    Returns the files imported now. A plugin that fails to import is logged and skipped, so one
    broken file does not stop jobs that do not use it; a job naming its vocabulary/model then
    fails with "unknown …", and the log says why.
    """
    done = []
    for kind in PLUGIN_KINDS:
        folder = Path(root) / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.py")):
            key = str(path.resolve())
            mtime = path.stat().st_mtime
            if _loaded.get(key) == mtime:
                continue
            module_name = f"mofsim_plugins.{kind}.{path.stem}"
            try:
                spec = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception:  # noqa: BLE001 - a broken plugin must not take the worker down
                logger.exception("plugin %s failed to load", path)
                sys.modules.pop(module_name, None)
                continue
            _loaded[key] = mtime
            done.append(str(path))
    return done


def _builtins() -> None:
    register_vocabulary("iupac", IUPAC_PROTEIN)
    register_model("cnn", dms_models.cnn_factory)
    register_metric("spearman", metrics.spearman)
    register_metric("mse", metrics.mse)


_builtins()
