"""Child process for dataset validation and SQLite import: ``python -m models_app.datasets.child``.

``validate <path> <format>`` prints ``{"ok": true, "summary": {...}}``; ``export <sqlite> <out.csv>
<max rows>`` with the filter as JSON on stdin prints ``{"ok": true, "counts": {...}}``; a ``DatasetError`` becomes
``{"ok": false, "error": "..."}``. Run by ``models_app.datasets.store`` under
``mofsim_site.limited`` so a huge or pathological file costs the child, not the web process.
No Django here.
"""

import json
import sys
from pathlib import Path

from models_app.datasets import DatasetError
from mofsim_site.limited import child_main


def validate_file(path: Path, file_format: str) -> dict:
    """Summary dict (with ``n_records``) of a dataset file, or ``DatasetError``."""
    if path.stat().st_size == 0:
        raise DatasetError("empty file")
    if file_format == "fasta":
        from models_app.datasets.fasta import validate_fasta  # start-up cost: the child loads one reader

        return validate_fasta(path)
    if file_format in ("csv", "tsv"):
        from models_app.datasets.dms import validate_dms  # start-up cost: the child loads one reader

        return validate_dms(path, file_format)
    if file_format == "extxyz":
        from models_app.datasets.extxyz import validate_extxyz  # start-up cost: the child loads one reader

        return validate_extxyz(path)
    raise DatasetError(f"unknown format {file_format!r}")


def work(command: str, *args: str) -> dict:
    try:
        if command == "validate":
            return {"ok": True, "summary": validate_file(Path(args[0]), args[1])}
        from models_app.datasets.sqlite_import import export_rows  # start-up cost: only for exports

        conditions = json.loads(sys.stdin.read())
        counts = export_rows(Path(args[0]), conditions, Path(args[1]), max_rows=int(args[2]))
        return {"ok": True, "counts": counts}
    except DatasetError as exc:
        return {"ok": False, "error": str(exc)}


if __name__ == "__main__":
    child_main(work, *sys.argv[1:])
