"""Per-family adapters: one structure → the model's own graph; many graphs → one forward pass.

Each adapter reuses the graph construction of the family's ASE calculator (the same neighbour
list, cutoff, dtype and unit conversions), so a batched result differs from the calculator's
only by float round-off in the summations. ``forward`` returns per-structure energies (B,),
forces stacked in structure order (N_total, 3) and stresses in ASE's Voigt order (B, 6), eV/Å³.
"""

import numpy as np
import torch
from ase.stress import full_3x3_to_voigt_6_stress


class Unsupported(Exception):
    """The calculator cannot be batched; the caller keeps the ASE path."""


def _batch(graphs, device):
    from torch_geometric.data import Batch

    return Batch.from_data_list(graphs).to(device)


def _mace_batch(graphs, device):
    from mace.tools import torch_geometric  # MACE's own copy of the PyG batching

    return torch_geometric.Batch.from_data_list(graphs).to(device)


class SevenNetAdapter:
    """SevenNet (sevenn 0.10.x): ``AtomGraphSequential`` with its batch switch on during the call."""

    family = "sevennet"

    def __init__(self, calc):
        from sevenn.nn.sequential import AtomGraphSequential

        if not isinstance(calc.model, AtomGraphSequential):
            raise Unsupported("only SevenNet checkpoints (not TorchScript files) are batched")
        self.model, self.cutoff, self.type_map = calc.model, float(calc.cutoff), calc.type_map
        self.device = torch.device(calc.device)

    def graph(self, atoms):
        from sevenn.atom_graph_data import AtomGraphData
        from sevenn.train.dataload import unlabeled_atoms_to_graph

        unknown = sorted(set(int(z) for z in atoms.numbers) - set(self.type_map))
        if unknown:
            raise ValueError(f"the model does not know atomic numbers {unknown}")
        graph = AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(atoms, self.cutoff))
        return graph, int(graph["edge_index"].shape[1])

    def forward(self, graphs):
        import sevenn._keys as KEY

        batch = _batch(graphs, self.device)
        # The calculator's model is shared (model cache); it runs unbatched between our calls.
        self.model.set_is_batch_data(True)
        try:
            out = self.model(batch)
        finally:
            self.model.set_is_batch_data(False)
        energies = out[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
        forces = out[KEY.PRED_FORCE].detach().cpu().numpy()
        stress = -out[KEY.PRED_STRESS].detach().cpu().numpy().reshape(-1, 6)[:, [0, 1, 2, 4, 5, 3]]
        return energies, forces, stress


class MACEAdapter:
    """MACE (mace-torch 0.3.16): one model, not compiled, energy + forces + stress."""

    family = "mace"

    def __init__(self, calc):
        if calc.num_models != 1 or calc.use_compile or calc.model_type != "MACE":
            raise Unsupported("only a single, uncompiled MACE energy model is batched")
        self.calc, self.model = calc, calc.models[0]
        self.device = torch.device(calc.device)
        self.dtype = next(self.model.parameters()).dtype

    def graph(self, atoms):
        from mace import data as mace_data
        from mace.tools import torch_tools

        calc = self.calc
        keyspec = mace_data.KeySpecification(
            info_keys=calc.info_keys, arrays_keys={**calc.arrays_keys, calc.charges_key: "charges"}
        )
        with torch_tools.default_dtype(calc.default_dtype):
            config = mace_data.config_from_atoms(atoms, key_specification=keyspec, head_name=calc.head)
            graph = mace_data.AtomicData.from_config(
                config, z_table=calc.z_table, cutoff=calc.r_max, heads=calc.available_heads
            )
        return graph, int(graph["edge_index"].shape[1])

    def forward(self, graphs):
        batch = _mace_batch(graphs, self.device)
        for key in batch.keys:
            value = batch[key]
            if torch.is_tensor(value) and torch.is_floating_point(value):
                batch[key] = value.to(dtype=self.dtype)
        out = self.model(batch.to_dict(), compute_stress=True, training=False)
        e_unit, l_unit = self.calc.energy_units_to_eV, self.calc.length_units_to_A
        energies = out["energy"].detach().cpu().numpy().reshape(-1) * e_unit
        forces = out["forces"].detach().cpu().numpy() * (e_unit / l_unit)
        stress3 = out["stress"].detach().cpu().numpy() * (e_unit / l_unit**3)
        return energies, forces, np.array([full_3x3_to_voigt_6_stress(s) for s in stress3])


def adapter_for(calc):
    """The adapter of ``calc``'s family; ``Unsupported`` for anything else."""
    name = type(calc).__name__
    if name == "SevenNetCalculator":
        return SevenNetAdapter(calc)
    if name == "MACECalculator":
        return MACEAdapter(calc)
    raise Unsupported(f"{name} has no batched path")
