"""Runs inside the sandbox (``models_app.sandbox``): unpickle one uploaded model and convert it.

Usage: ``python -m models_app.sandbox_child FAMILY INPUT OUTDIR DTYPE``. Writes
``OUTDIR/model.safetensors`` (``models_app.mace_format``) and ``OUTDIR/report.json`` with the
energy, forces and stress the *original* module gives for ``mace_format.reference_atoms``; the
parent rebuilds the model from the converted file and must get the same numbers. No Django here.
"""

import json
import sys
from pathlib import Path


def convert_mace(source: Path, outdir: Path, dtype: str) -> dict:
    import mace  # noqa: F401 - e3nn 0.4.4 import needs mace's torch.load setting
    import torch
    from mace.calculators import MACECalculator

    from models_app import mace_format  # after mace: e3nn import order

    model = torch.load(source, map_location="cpu", weights_only=False)  # the untrusted pickle
    if not isinstance(model, torch.nn.Module):
        raise mace_format.FormatError(f"file holds a {type(model).__name__}, not a MACE module")
    model = model.to({"float64": torch.float64, "float32": torch.float32}[dtype]).eval()
    mace_format.save_model(model, outdir / "model.safetensors")
    calc = MACECalculator(models=model, device="cpu", default_dtype=dtype)
    atoms = mace_format.reference_atoms(model.atomic_numbers.tolist())
    return {"ok": True, "reference": mace_format.evaluate(calc, atoms)}


def main(family: str, source: str, outdir: str, dtype: str) -> dict:
    if family != "mace":
        return {"ok": False, "message": f"no converter for family {family!r}"}
    return convert_mace(Path(source), Path(outdir), dtype)


if __name__ == "__main__":
    out_dir = Path(sys.argv[3])
    try:
        report = main(*sys.argv[1:5])
    except Exception as exc:  # noqa: BLE001 - any failure of an untrusted file is a verdict
        report = {"ok": False, "message": f"{type(exc).__name__}: {exc}"[:500]}
    (out_dir / "report.json").write_text(json.dumps(report))
