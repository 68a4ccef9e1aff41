"""Validate an untrusted model file: convert it in the sandbox, then verify the result here.

Loading a PyTorch ``.model`` file unpickles it, which runs any code it holds. So:

1. ``models_app.sandbox`` runs ``models_app.sandbox_child`` in bubblewrap (no secrets, no
   network, no WORKDIR, its own uid, rlimits, wall timeout). The child unpickles the upload and
   writes a pickle-free ``model.safetensors`` plus ``report.json`` (reference energies/forces of
   the original module).
2. This process never trusts the child's stdout or exit code: it reads ``report.json``, rebuilds
   the model from the safetensors file (allow-listed config, no pickle —
   ``models_app.mace_format``), evaluates the same reference cell and requires the same numbers.

Only families with such a converter (MACE) are accepted; others are refused (docs/models.md).
"""

import json
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from models_app import sandbox

CONVERTIBLE = ("mace",)
REPORT_MAX_BYTES = 1024 * 1024
TOLERANCE = {"float64": 1e-6, "float32": 1e-3}  # eV and eV/Å, relative to max(1, |value|)


@dataclass
class Verdict:
    ok: bool
    message: str
    converted: Path | None = None  # the pickle-free file, in a temp dir the caller moves it from

    def discard(self) -> None:
        if self.converted is not None:
            shutil.rmtree(self.converted.parent, ignore_errors=True)


def limits() -> sandbox.Limits:
    return sandbox.Limits(file_bytes=2 * settings.MODEL_UPLOAD_MAX_BYTES + 64 * 1024**2)


def validate_model_file(family: str, path: Path, dtype: str = "float64", trusted: bool = False) -> Verdict:
    """Convert and verify ``path``. ``trusted`` (a file whose SHA-256 matched a value pinned in our
    code, e.g. a model shipped in a wheel) may be converted without bubblewrap when it is absent;
    with bubblewrap present it is sandboxed like any upload."""
    if family not in CONVERTIBLE:
        return Verdict(False, f"uploaded {family} model files are refused: only {', '.join(CONVERTIBLE)} "
                              "files can be converted to a pickle-free format (docs/models.md)")  # fmt: skip
    if dtype not in TOLERANCE:
        return Verdict(False, f"default_dtype must be one of {sorted(TOLERANCE)}")
    tmp = settings.WORKDIR / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    outdir = Path(tempfile.mkdtemp(prefix="sandbox-", dir=tmp))
    verdict = _run(family, Path(path).resolve(), outdir, dtype, trusted)
    if not verdict.ok:
        shutil.rmtree(outdir, ignore_errors=True)
    return verdict


def _run(family: str, path: Path, outdir: Path, dtype: str, trusted: bool) -> Verdict:
    lim = limits()
    try:
        proc = sandbox.run_child(path, outdir, [family, "{in}", "{out}", dtype], lim,
                                 unsafe=settings.MODEL_SANDBOX_UNSAFE or trusted)  # fmt: skip
    except sandbox.SandboxUnavailable as exc:
        return Verdict(False, str(exc))
    except subprocess.TimeoutExpired:
        return Verdict(False, f"validation took longer than {lim.wall_s} s")
    report = _read_report(outdir / "report.json")
    if report is None:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return Verdict(False, f"model did not load: {tail[0][:300]}")
    if report.get("ok") is not True:
        return Verdict(False, f"model did not load: {str(report.get('message', ''))[:300]}")
    return _verify(outdir / "model.safetensors", report.get("reference"), dtype)


def _read_report(path: Path) -> dict | None:
    if not path.is_file() or path.is_symlink() or path.stat().st_size > REPORT_MAX_BYTES:
        return None
    try:
        report = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return None
    return report if isinstance(report, dict) else None


def _verify(converted: Path, claimed, dtype: str) -> Verdict:
    """Rebuild from the pickle-free file and compare with what the original module computed."""
    import mace  # noqa: F401 - e3nn 0.4.4 import order (docs/models.md); no pickle is loaded below
    from mace.calculators import MACECalculator

    from models_app import mace_format  # after mace: e3nn import order

    if not converted.is_file() or converted.is_symlink():
        return Verdict(False, "the sandbox produced no converted model")
    try:
        model = mace_format.load_model(converted, "cpu")
        calc = MACECalculator(models=model, device="cpu", default_dtype=dtype)
        ours = mace_format.evaluate(calc, mace_format.reference_atoms(model.atomic_numbers.tolist()))
    except Exception as exc:  # noqa: BLE001 - a file that does not rebuild is invalid, whatever the error
        return Verdict(False, f"converted model did not rebuild: {type(exc).__name__}: {exc}"[:400])
    if not all(math.isfinite(v) for v in _flat(ours)):
        return Verdict(False, "model returned non-finite energy/forces/stress")
    if not _same(ours, claimed, TOLERANCE[dtype]):
        return Verdict(False, "the converted model does not reproduce the uploaded model's energies")
    z = model.atomic_numbers.tolist()
    return Verdict(True, f"converted to safetensors; test energy {ours['energy']:.6f} eV, elements Z={z}", converted)


def _flat(result) -> list:
    return [result["energy"], *(x for row in result["forces"] for x in row), *result["stress"]]


def _same(ours: dict, claimed, tol: float) -> bool:
    try:
        theirs = _flat(claimed)
    except (KeyError, TypeError):
        return False
    mine = _flat(ours)
    return len(mine) == len(theirs) and all(
        isinstance(b, (int, float)) and abs(a - b) <= tol * max(1.0, abs(a)) for a, b in zip(mine, theirs, strict=True)
    )
