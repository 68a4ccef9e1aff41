"""DMS fitness trainer: k-fold CV of the chosen model next to the one-hot ridge baseline.

Every job reports its model and the ridge baseline on the *same* folds, so a number is always
read against the simplest credible model. Outputs in ``outdir``: ``model.pth`` (model refit on
all variants; tensors and plain values only, loadable with ``weights_only=True``),
``metrics.json``, ``predictions.csv``, ``splits.csv``, ``plan.json`` and ``train.log``.
"""

import csv
from pathlib import Path

import numpy as np

from models_app.datasets import DatasetError
from models_app.datasets.dms import load_dms
from models_app.datasets.fasta import wild_type as read_wild_type
from models_app.training import registry
from models_app.training.common import TrainLog, torch_threads, write_json
from models_app.training.dms_models import fit_ridge, fit_torch, predict_ridge
from models_app.training.splits import make_folds
from models_app.training.vocab import one_hot
from mofsim_site.executors import ExecutorError


def _metric_fns(names) -> dict:
    fns = {"spearman": registry.METRICS["spearman"], "mse": registry.METRICS["mse"]}
    for name in names:
        if name not in registry.METRICS:
            raise ExecutorError(f"unknown metric {name!r}; known: {', '.join(sorted(registry.METRICS))}")
        fns[name] = registry.METRICS[name]
    return fns


def _val_split(idx: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    shuffled = np.random.default_rng(seed).permutation(idx)
    n_val = max(1, int(round(len(idx) * fraction)))
    return shuffled[n_val:], shuffled[:n_val]


def load_inputs(data: dict):
    try:
        wt = None
        if data.get("wild_type"):
            wt = read_wild_type(Path(data["wild_type"]["path"]))
        scores = data["scores"]
        return load_dms(Path(scores["path"]), scores["file_format"], wild_type=wt), wt
    except DatasetError as exc:
        raise ExecutorError(f"dataset: {exc}") from exc


def train_dms(data: dict, params: dict, outdir: Path, report, device: str = "cpu") -> dict:
    """``data``: ``{"scores": {"path", "file_format"}, "wild_type": {"path", ...} | None}``."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    log = TrainLog(outdir, report)
    try:
        with torch_threads(params.get("cpu_threads", 1)):
            return _train(data, {**params, "device": device}, outdir, report, log)
    finally:
        log.close()


def _train(data, params, outdir, report, log) -> dict:
    dms, wt = load_inputs(data)
    model_name, k, seed, epochs = params["model"], params["folds"], params["seed"], params["epochs"]
    use_torch = model_name != "ridge"
    if use_torch and model_name not in registry.MODELS:
        raise ExecutorError(f"unknown model {model_name!r}; known: ridge, {', '.join(sorted(registry.MODELS))}")
    metric_fns = _metric_fns(params.get("metrics", []))
    x = one_hot(dms.sequences, params["vocab"])
    y = dms.scores
    try:
        folds = make_folds(dms.first_positions, params["split"], k, seed)
    except ValueError as exc:
        raise ExecutorError(str(exc)) from exc
    log(
        f"{len(y)} variants, sequence length {x.shape[1]}, vocabulary {params['vocab']} ({x.shape[2]} symbols); "
        f"model {model_name} vs ridge, {k}-fold {params['split']} split"
    )
    write_json(outdir / "plan.json", {"plan": params.get("plan", {}), "params": params})
    log(f"training on {params['device']}")
    pred_model = np.full(len(y), np.nan)
    pred_ridge = np.full(len(y), np.nan)
    per_fold = {"ridge": [], model_name: []} if use_torch else {"ridge": []}
    steps_per_fold = epochs if use_torch else 1
    total = steps_per_fold * (k + (1 if use_torch else 0))
    for fold in range(k):
        train_idx, test_idx = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        ridge = fit_ridge(x[train_idx], y[train_idx], params["ridge_alpha"])
        pred_ridge[test_idx] = predict_ridge(ridge, x[test_idx])
        if use_torch:
            predict = _fit_model(x, y, train_idx, params, report, step0=fold * epochs, total=total, fold=fold)
            pred_model[test_idx] = predict(x[test_idx])
        else:
            report.progress(fold + 1, total, fold=fold)
        scores = {}
        for name, preds in (("ridge", pred_ridge), (model_name, pred_model))[: 2 if use_torch else 1]:
            if name in per_fold:
                row = {m: fn(y[test_idx], preds[test_idx]) for m, fn in metric_fns.items()}
                per_fold[name].append({"fold": fold, "n_test": int(len(test_idx)), **row})
                scores[name] = row
        log(f"fold {fold}: " + "; ".join(f"{n} ρ={s['spearman']:.3f} mse={s['mse']:.4f}" for n, s in scores.items()))
    summary = {
        name: {
            **{m: float(np.mean([r[m] for r in rows])) for m in metric_fns},
            **{f"{m}_per_fold": [r[m] for r in rows] for m in metric_fns},
        }
        for name, rows in per_fold.items()
    }
    if use_torch:
        all_idx = np.arange(len(y))
        final = _fit_model(x, y, all_idx, params, report, step0=k * epochs, total=total, fold="all", keep=True)
        _save_torch(final, outdir / "model.pth", x.shape, params, wt)
    else:
        _save_ridge(fit_ridge(x, y, params["ridge_alpha"]), outdir / "model.pth", x.shape, params, wt)
    write_json(outdir / "metrics.json", {"per_fold": per_fold, "summary": summary})
    _write_predictions(
        outdir / "predictions.csv", dms, folds, y, pred_ridge, pred_model if use_torch else None, model_name
    )
    _write_splits(outdir / "splits.csv", dms, folds)
    for name, s in summary.items():
        log(f"{name}: mean Spearman ρ {s['spearman']:.3f}, mean MSE {s['mse']:.4f}")
    return {
        "task": "train_dms",
        "model": model_name,
        "baseline": "ridge",
        "split": params["split"],
        "folds": k,
        "n_variants": int(len(y)),
        "sequence_length": int(x.shape[1]),
        "vocabulary": params["vocab"],
        "metrics": summary,
        "notes": params.get("notes", ""),
        "device": params["device"],
    }


def _fit_model(x, y, idx, params, report, *, step0, total, fold, keep=False):
    import torch

    train_idx, val_idx = _val_split(idx, params["val_fraction"], params["seed"] + (0 if fold == "all" else fold + 1))
    factory = registry.MODELS[params["model"]]
    torch.manual_seed(params["seed"])
    model = factory(x.shape[1], x.shape[2], params)
    spearman = registry.METRICS["spearman"]

    def on_epoch(epoch, loss, val_loss, val_pred):
        rho = spearman(y[val_idx], val_pred)
        report.progress(step0 + epoch, total, loss=loss, val_loss=val_loss, spearman=rho, fold=fold)

    predict = fit_torch(
        model,
        x[train_idx],
        y[train_idx],
        x[val_idx],
        y[val_idx],
        epochs=params["epochs"],
        lr=params["lr"],
        batch_size=params["batch_size"],
        seed=params["seed"],
        on_epoch=on_epoch,
        device=params["device"],
    )
    return (model, predict) if keep else predict


def _save_torch(final, path, shape, params, wt) -> None:
    import torch

    model, _ = final
    torch.save(
        {
            "kind": "dms",
            "model": params["model"],
            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
            "seq_len": int(shape[1]),
            "vocab": params["vocab"],
            "alphabet": registry.VOCABULARIES[params["vocab"]],
            "wild_type": wt,
            "hyperparameters": {k: params[k] for k in ("lr", "epochs", "batch_size", "seed")},
        },
        path,
    )


def _save_ridge(ridge, path, shape, params, wt) -> None:
    import torch

    torch.save(
        {
            "kind": "dms",
            "model": "ridge",
            "coef": torch.as_tensor(ridge.coef_),
            "intercept": float(ridge.intercept_),
            "seq_len": int(shape[1]),
            "alphabet": registry.VOCABULARIES[params["vocab"]],
            "wild_type": wt,
        },
        path,
    )


def _write_predictions(path, dms, folds, y, pred_ridge, pred_model, model_name) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        header = ["mutant", "fold", "DMS_score", "pred_ridge"] + (
            [f"pred_{model_name}"] if pred_model is not None else []
        )
        writer.writerow(header)
        for i, mutant in enumerate(dms.mutants):
            row = [mutant, int(folds[i]), repr(float(y[i])), repr(float(pred_ridge[i]))]
            if pred_model is not None:
                row.append(repr(float(pred_model[i])))
            writer.writerow(row)


def _write_splits(path, dms, folds) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mutant", "first_position", "fold"])
        for mutant, pos, fold in zip(dms.mutants, dms.first_positions, folds, strict=True):
            writer.writerow([mutant, int(pos), int(fold)])
