"""FASTA protein sequences (the wild type of a DMS dataset comes from here)."""

from pathlib import Path

from models_app.datasets import DatasetError
from models_app.datasets.alphabet import unknown_residues

MAX_RECORDS = 100_000


def read_fasta(path: Path) -> list[tuple[str, str]]:
    """``[(header, sequence)]``; sequences upper-cased, gaps ``-`` and whitespace removed.

    Raises ``DatasetError`` naming the record and line for empty files, text before the first
    header, empty records and non-IUPAC residues.
    """
    records: list[tuple[str, list[str], int]] = []
    with open(path, encoding="utf-8", errors="strict") as fh:
        try:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line or line.startswith(";"):
                    continue
                if line.startswith(">"):
                    if len(records) >= MAX_RECORDS:
                        raise DatasetError(f"more than {MAX_RECORDS} FASTA records")
                    records.append((line[1:].strip() or f"record{len(records) + 1}", [], lineno))
                    continue
                if not records:
                    raise DatasetError(f"line {lineno}: sequence data before the first '>' header")
                seq = line.replace("-", "").replace(" ", "").upper()
                bad = unknown_residues(seq)
                if bad:
                    raise DatasetError(
                        f"line {lineno} (record {records[-1][0]!r}): unknown residue(s) {', '.join(bad)}; "
                        "only IUPAC amino-acid codes are accepted"
                    )
                records[-1][1].append(seq)
        except UnicodeDecodeError as exc:
            raise DatasetError(f"not a text file (UTF-8 decoding failed at byte {exc.start})") from exc
    if not records:
        raise DatasetError("empty file: no FASTA records ('>' header lines) found")
    out = []
    for header, parts, lineno in records:
        sequence = "".join(parts)
        if not sequence:
            raise DatasetError(f"line {lineno}: record {header!r} has no sequence")
        out.append((header, sequence))
    return out


def validate_fasta(path: Path) -> dict:
    records = read_fasta(path)
    lengths = [len(s) for _, s in records]
    return {
        "n_records": len(records),
        "headers": [h for h, _ in records[:20]],
        "length_min": min(lengths),
        "length_max": max(lengths),
        "first_sequence_length": lengths[0],
    }


def wild_type(path: Path) -> str:
    """The first record's sequence: the reference for DMS mutant strings."""
    return read_fasta(path)[0][1]
