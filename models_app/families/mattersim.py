"""MatterSim. UNTESTED here (its wheel pulls a CUDA build of torch: FACTS.md); written against
mattersim 1.x's documented ``MatterSimCalculator(load_path=..., device=...)``.

``model_path`` (a registered checkpoint) or ``model_name`` (``MatterSim-v1.0.0-5M.pth``, which
the package downloads on a worker node on first use). Computes in float32.
"""


def build(spec: dict, device: str, dtype: str):
    from mattersim.forcefield import MatterSimCalculator

    load_path = spec.get("model_path") or spec.get("model_name", "MatterSim-v1.0.0-5M.pth")
    return MatterSimCalculator(load_path=load_path, device=device)
