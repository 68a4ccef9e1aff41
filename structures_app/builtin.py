"""The built-in MOFSimBench structure sets, shipped in ``data/mofsimbench`` (MIT, see its LICENSE).

Sets and their ``--index`` order come from the ``index_*.csv`` files; DFT reference values
(optimised volume and structure, B0, Cv at 300 K) are attached to each structure's
``reference`` so reports can compare without re-reading the CSVs.
"""

import csv
import hashlib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from structures_app.models import Structure, StructureSet, StructureSetMember
from structures_app.services import store_path, write_processed

ROOT = settings.DATA_DIR / "mofsimbench"
SETS = {
    "essential": ("index_main_set.csv", range(4), "MOF-5, IRMOF-10, UiO-66, HKUST-1 primitive cells (prototypes)"),
    "main_set": ("index_main_set.csv", None, "100 MOFs, COFs and zeolites (optimization, MD stability, bulk modulus)"),
    "copper": ("index_copper.csv", None, "13 Cu-MOFs (MD stability with metal coordination)"),
    "hcmof": ("index_hcmof.csv", None, "232 structures with DFT heat capacity at 300 K"),
}


def _float(value: str):
    return float(value) if value not in ("", None) else None


def reference_from_row(row: dict) -> dict:
    ref = {}
    if row.get("dft_volume_A3"):
        ref["dft_volume"] = _float(row["dft_volume_A3"])
    if row.get("dft_B0_GPa"):
        ref["dft_b0_gpa"] = _float(row["dft_B0_GPa"])
    if row.get("dft_cif"):
        ref["dft_structure"] = f"mofsimbench/{row['dft_cif']}"
    if row.get("dft_cv_300K_J_per_gK"):
        ref["dft_cv300_j_per_g_k"] = _float(row["dft_cv_300K_J_per_gK"])
    if row.get("mass_amu"):
        ref["mass_amu"] = _float(row["mass_amu"])
    return ref


def read_index(csv_name: str, indices=None) -> list[dict]:
    with open(ROOT / csv_name, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if indices is not None:
        wanted = set(indices)
        rows = [r for r in rows if int(r["index"]) in wanted]
    return rows


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def builtin_structure(row: dict) -> Structure:
    path = ROOT / row["file"]
    sha = _sha256(path)
    existing = Structure.objects.filter(source=Structure.Source.BUILTIN, name=row["name"], sha256=sha).first()
    reference = reference_from_row(row)
    if existing is not None:
        if not existing.processed_path.exists():
            from ase.io import read

            write_processed(read(existing.absolute_path), existing.sha256)
        if reference and existing.reference != {**existing.reference, **reference}:
            existing.reference = {**existing.reference, **reference}
            existing.save(update_fields=["reference"])
        return existing
    return store_path(
        path,
        owner=None,
        project="mofsimbench",
        name=row["name"],
        source=Structure.Source.BUILTIN,
        reference=reference,
        limit=50 * 1024 * 1024,
    )


def load_set(slug: str, progress=None) -> StructureSet:
    csv_name, indices, description = SETS[slug]
    rows = read_index(csv_name, indices)
    with transaction.atomic():
        structure_set, _ = StructureSet.objects.update_or_create(
            slug=slug, defaults={"description": description, "builtin": True, "owner": None}
        )
        for row in rows:
            structure = builtin_structure(row)
            StructureSetMember.objects.update_or_create(
                structure_set=structure_set, index=int(row["index"]), defaults={"structure": structure}
            )
            if progress:
                progress(slug, row["name"])
    return structure_set
