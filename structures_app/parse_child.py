"""Child process for ``structures_app.services.parse_upload``: ``python -m structures_app.parse_child``.

Arguments: input path, original file name, output extXYZ path, limits as JSON. Prints
``{"ok": true, "summary": {...}}`` or ``{"ok": false, "error": "..."}`` (no Django here).
"""

import json
import sys
from pathlib import Path

from mofsim_site.limited import child_main


def work(path: str, filename: str, out_path: str, limits_json: str) -> dict:
    # imported once child_main applied the rlimits, so ASE's import counts against them too
    from structures_app.parsers import StructureError, StructureLimits, parse_structure

    limits = StructureLimits(**json.loads(limits_json))
    try:
        parsed = parse_structure(Path(path), filename, limits, Path(out_path))
    except StructureError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "summary": parsed.as_dict()}


if __name__ == "__main__":
    child_main(work, *sys.argv[1:5])
