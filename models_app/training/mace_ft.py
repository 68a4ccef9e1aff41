"""MACE training / fine-tuning on an extXYZ dataset of reference energies and forces.

From scratch a small ``ScaleShiftMACE`` is built (E0s from a least-squares fit of the training
energies, so the network learns only the interaction part); with ``base_model_path`` an
existing MACE model is loaded from its pickle-free file (``models_app.mace_format``) and trained
further (fine-tuning; the dataset's elements must be ones the model knows). The force MAE on
held-out frames is measured before and after training, so the result says whether training helped.
Output: ``model.model`` (a whole-module file that
``MACECalculator`` loads; the platform registers it only after the sandbox converted it),
``metrics.json``, ``splits.csv``, ``plan.json``, ``train.log``.
"""

import csv
from pathlib import Path

import numpy as np

from models_app.datasets import DatasetError
from models_app.datasets.extxyz import frame_labels, read_frames
from models_app.training.common import TrainLog, torch_threads, write_json
from mofsim_site.executors import ExecutorError


def _labelled(frames):
    """Copies with labels under REF_* keys (what mace's KeySpecification reads)."""
    out = []
    for i, atoms in enumerate(frames):
        energy, forces = frame_labels(atoms, i)
        copy = atoms.copy()
        copy.calc = None
        copy.info["REF_energy"] = energy
        copy.arrays["REF_forces"] = forces
        out.append(copy)
    return out


def _e0s(frames, z_list) -> np.ndarray:
    """Per-element reference energies by least squares on composition (like mace's 'average')."""
    counts = np.array([[np.sum(a.numbers == z) for z in z_list] for a in frames], dtype=float)
    energies = np.array([a.info["REF_energy"] for a in frames])
    e0, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return e0


def build_model(params: dict, z_list: list[int], e0s: np.ndarray, avg_neighbors: float):
    import torch
    from e3nn import o3
    from mace import modules

    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    return modules.ScaleShiftMACE(
        r_max=params["r_max"],
        num_bessel=8,
        num_polynomial_cutoff=5,
        max_ell=params["max_ell"],
        interaction_cls=block,
        interaction_cls_first=block,
        num_interactions=params["num_interactions"],
        num_elements=len(z_list),
        hidden_irreps=o3.Irreps(params["hidden_irreps"]),
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=e0s,
        avg_num_neighbors=avg_neighbors,
        atomic_numbers=z_list,
        correlation=params["correlation"],
        gate=torch.nn.functional.silu,
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    )


def _loaders(frames, z_list, r_max, batch_size, shuffle, seed):
    import torch
    from mace import data as mdata
    from mace import tools
    from mace.tools import torch_geometric

    keyspec = mdata.KeySpecification(info_keys={"energy": "REF_energy"}, arrays_keys={"forces": "REF_forces"})
    table = tools.AtomicNumberTable(z_list)
    configs = mdata.config_from_atoms_list(frames, key_specification=keyspec)
    items = [mdata.AtomicData.from_config(c, z_table=table, cutoff=r_max) for c in configs]
    generator = torch.Generator().manual_seed(seed)
    return torch_geometric.dataloader.DataLoader(items, batch_size=batch_size, shuffle=shuffle, generator=generator)


def evaluate(model, loader, device) -> dict:
    """Force MAE (eV/Å) and energy MAE per atom (eV/atom) over a loader."""
    f_err, e_err = [], []
    for batch in loader:
        batch = batch.to(device)
        out = model(batch.to_dict(), training=False, compute_force=True)
        n_atoms = (batch.ptr[1:] - batch.ptr[:-1]).to(out["energy"].dtype)
        f_err.append((out["forces"] - batch.forces).abs().detach().cpu().numpy().ravel())
        e_err.append(((out["energy"] - batch.energy) / n_atoms).abs().detach().cpu().numpy())
    return {
        "force_mae": float(np.concatenate(f_err).mean()),
        "energy_mae_per_atom": float(np.concatenate(e_err).mean()),
    }


def train_mace(data: dict, params: dict, outdir: Path, report, device: str = "cpu", base_model_path=None) -> dict:
    """``data``: ``{"structures": {"path"}}``."""
    import torch

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    log = TrainLog(outdir, report)
    dtype_before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # MACECalculator's default dtype for saved models
    try:
        with torch_threads(params.get("cpu_threads", 1)):
            return _train(data, params, outdir, report, log, device, base_model_path)
    finally:
        torch.set_default_dtype(dtype_before)
        log.close()


def _train(data, params, outdir, report, log, device, base_model_path) -> dict:
    import mace  # noqa: F401  - sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD before e3nn imports (FACTS.md)
    import torch

    from models_app.mace_format import load_model  # after mace: e3nn import order

    try:
        frames = _labelled(read_frames(Path(data["structures"]["path"])))
    except DatasetError as exc:
        raise ExecutorError(f"dataset: {exc}") from exc
    if len(frames) < 2:
        raise ExecutorError("need at least 2 frames")
    rng = np.random.default_rng(params["seed"])
    order = rng.permutation(len(frames))
    n_valid = max(1, int(round(len(frames) * params["valid_fraction"])))
    valid_idx, train_idx = np.sort(order[:n_valid]), np.sort(order[n_valid:])
    train, valid = [frames[i] for i in train_idx], [frames[i] for i in valid_idx]
    write_json(outdir / "plan.json", {"plan": params.get("plan", {}), "params": params})
    z_data = sorted({int(z) for a in frames for z in a.numbers})
    torch.manual_seed(params["seed"])
    if base_model_path:
        model = load_model(base_model_path, device)  # the pickle-free file (models_app.mace_format)
        z_list = [int(z) for z in model.atomic_numbers.tolist()]
        unknown = sorted(set(z_data) - set(z_list))
        if unknown:
            raise ExecutorError(f"the base model does not know element(s) Z={unknown}")
        model = model.double()
        log(f"fine-tuning base model ({len(z_list)} elements)")
    else:
        z_list = z_data
        e0s = _e0s(train, z_list)
        probe = _loaders(train, z_list, params["r_max"], len(train), False, 0)
        batch = next(iter(probe))
        avg_neighbors = float(batch.edge_index.shape[1]) / float(batch.num_nodes)
        model = build_model(params, z_list, e0s, avg_neighbors)
        log(f"new ScaleShiftMACE for Z={z_list}, r_max {params['r_max']} Å, {params['hidden_irreps']}")
    model.to(device)
    train_loader = _loaders(train, z_list, params["r_max"], params["batch_size"], True, params["seed"])
    valid_loader = _loaders(valid, z_list, params["r_max"], params["batch_size"], False, 0)
    initial = evaluate(model, valid_loader, device)
    log(
        f"{len(train)} training / {len(valid)} held-out frames; "
        f"initial held-out force MAE {initial['force_mae']:.4f} eV/Å"
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=params["lr"], amsgrad=True)
    w_e, w_f = params["energy_weight"], params["forces_weight"]
    best = (float("inf"), None)
    epochs = params["epochs"]
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            out = model(batch.to_dict(), training=True, compute_force=True)
            n_atoms = (batch.ptr[1:] - batch.ptr[:-1]).to(out["energy"].dtype)
            loss_e = torch.mean(((out["energy"] - batch.energy) / n_atoms) ** 2)
            loss_f = torch.mean((out["forces"] - batch.forces) ** 2)
            loss = w_e * loss_e + w_f * loss_f
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * int(batch.num_graphs)
            count += int(batch.num_graphs)
        model.eval()
        held = evaluate(model, valid_loader, device)
        if held["force_mae"] < best[0]:
            best = (held["force_mae"], {k: v.detach().clone() for k, v in model.state_dict().items()})
        report.progress(
            epoch,
            epochs,
            loss=total / count,
            val_loss=held["force_mae"],
            force_mae=held["force_mae"],
            energy_mae_per_atom=held["energy_mae_per_atom"],
        )
    model.load_state_dict(best[1])
    model.eval()
    final = evaluate(model, valid_loader, device)
    log(f"held-out force MAE {initial['force_mae']:.4f} → {final['force_mae']:.4f} eV/Å")
    model.to("cpu")
    torch.save(model, outdir / "model.model")
    write_json(outdir / "metrics.json", {"initial": initial, "final": final, "epochs": epochs})
    with open(outdir / "splits.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["frame", "split"])
        for i in range(len(frames)):
            writer.writerow([i, "valid" if i in set(valid_idx.tolist()) else "train"])
    return {
        "task": "train_mace",
        "base_model": bool(base_model_path),
        "elements": z_list,
        "n_train": len(train),
        "n_valid": len(valid),
        "initial": initial,
        "final": final,
        "force_mae_reduction": initial["force_mae"] - final["force_mae"],
        "notes": params.get("notes", ""),
        "device": device,
    }
