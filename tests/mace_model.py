"""A tiny, randomly initialised MACE model, for tests of the MACE code paths (no MACE weights
ship with mace-torch and none can be downloaded here).

``write_tiny_mace`` writes what users upload (a whole pickled module, opened only in the
sandbox); ``write_converted_mace`` writes the pickle-free file workers load (models_app.mace_format).
"""

from pathlib import Path


def tiny_mace(atomic_numbers=(1, 6, 8, 29)):
    import mace  # noqa: F401 - sets the torch.load flag e3nn 0.4.4 needs
    import numpy as np
    import torch
    from e3nn import o3
    from mace import modules

    torch.manual_seed(0)
    model = modules.ScaleShiftMACE(
        r_max=4.0, num_bessel=4, num_polynomial_cutoff=3, max_ell=1,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=1, num_elements=len(atomic_numbers), hidden_irreps=o3.Irreps("8x0e + 8x1o"),
        MLP_irreps=o3.Irreps("8x0e"), gate=torch.nn.functional.silu,
        atomic_energies=np.zeros(len(atomic_numbers)), avg_num_neighbors=8.0,
        atomic_numbers=list(atomic_numbers), correlation=2, radial_type="bessel",
        atomic_inter_scale=1.0, atomic_inter_shift=0.0,
    )  # fmt: skip
    return model.double()


def write_tiny_mace(path: Path, atomic_numbers=(1, 6, 8, 29)) -> Path:
    import torch

    torch.save(tiny_mace(atomic_numbers), path)
    return path


def write_converted_mace(path: Path, atomic_numbers=(1, 6, 8, 29)) -> Path:
    from models_app.mace_format import save_model

    save_model(tiny_mace(atomic_numbers), path)
    return path
