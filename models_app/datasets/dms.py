"""ProteinGym-style DMS fitness tables (CSV or TSV).

Columns: ``mutant`` (``A14D``; several joined by ``:``; 1-based positions), ``DMS_score``
(a finite number), ``DMS_score_bin`` (0 or 1) and optionally ``mutated_sequence``. Validation
streams the file row by row (uploads may be gigabytes); ``load_dms`` reads it for training.
"""

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models_app.datasets import DatasetError
from models_app.datasets.alphabet import IUPAC_SET, unknown_residues

REQUIRED = ("mutant", "DMS_score", "DMS_score_bin")
OPTIONAL = ("mutated_sequence",)
DELIMITERS = {"csv": ",", "tsv": "\t"}
_MUTATION = re.compile(r"^([A-Z*])([1-9][0-9]*)([A-Z*])$")
csv.field_size_limit(2**24)  # a mutated_sequence can be long; csv's 128 KiB default is not enough


@dataclass(frozen=True)
class Mutation:
    wt: str
    pos: int  # 1-based
    mt: str


def parse_mutant(text: str) -> list[Mutation]:
    """``"A14D:G20W"`` → two mutations; ``DatasetError`` for anything else."""
    text = text.strip()
    if not text:
        raise DatasetError("empty mutant")
    out = []
    for part in text.split(":"):
        match = _MUTATION.match(part.strip())
        if not match:
            raise DatasetError(f"mutant {text!r}: {part!r} is not of the form A14D")
        wt, pos, mt = match.group(1), int(match.group(2)), match.group(3)
        for residue in (wt, mt):
            if residue not in IUPAC_SET:
                raise DatasetError(f"mutant {text!r}: unknown residue {residue!r}")
        out.append(Mutation(wt, pos, mt))
    positions = [m.pos for m in out]
    if len(set(positions)) != len(positions):
        raise DatasetError(f"mutant {text!r}: a position is mutated twice")
    return out


def apply_mutant(wild_type: str, mutations: list[Mutation], label: str = "") -> str:
    """The mutated sequence; checks each wild-type residue against the reference."""
    seq = list(wild_type)
    for m in mutations:
        if m.pos > len(seq):
            raise DatasetError(f"mutant {label}: position {m.pos} is beyond the wild type ({len(seq)} residues)")
        if seq[m.pos - 1] != m.wt:
            raise DatasetError(f"mutant {label}: wild type has {seq[m.pos - 1]!r} at position {m.pos}, not {m.wt!r}")
        seq[m.pos - 1] = m.mt
    return "".join(seq)


def _number(value: str, column: str, row: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DatasetError(f"row {row}: {column} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise DatasetError(f"row {row}: {column} {value!r} is not a finite number")
    return number


def iter_rows(path: Path, file_format: str):
    """Yield ``(row_number, mutant, mutations, score, bin, mutated_sequence|None)``, validated."""
    if file_format not in DELIMITERS:
        raise DatasetError(f"unknown table format {file_format!r}")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter=DELIMITERS[file_format])
            header = reader.fieldnames
            if not header:
                raise DatasetError("empty file: no header row")
            header = [h.strip() for h in header]
            reader.fieldnames = header
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                hint = " (is this a TSV uploaded as .csv, or the other way round?)" if len(header) == 1 else ""
                raise DatasetError(f"wrong columns: missing {', '.join(missing)}; found {', '.join(header[:10])}{hint}")
            has_seq = "mutated_sequence" in header
            for row_number, row in enumerate(reader, start=2):
                if None in row:
                    raise DatasetError(f"row {row_number}: more fields than header columns")
                mutant = (row["mutant"] or "").strip()
                try:
                    mutations = parse_mutant(mutant)
                except DatasetError as exc:
                    raise DatasetError(f"row {row_number}: {exc}") from None
                score = _number(row["DMS_score"], "DMS_score", row_number)
                score_bin = _number(row["DMS_score_bin"], "DMS_score_bin", row_number)
                if score_bin not in (0.0, 1.0):
                    raise DatasetError(f"row {row_number}: DMS_score_bin must be 0 or 1, got {row['DMS_score_bin']!r}")
                sequence = None
                if has_seq:
                    sequence = (row["mutated_sequence"] or "").strip().upper()
                    bad = unknown_residues(sequence)
                    if not sequence or bad:
                        what = "is empty" if not sequence else f"has unknown residue(s) {', '.join(bad)}"
                        raise DatasetError(f"row {row_number}: mutated_sequence {what}")
                    for m in mutations:
                        if m.pos > len(sequence) or sequence[m.pos - 1] != m.mt:
                            raise DatasetError(
                                f"row {row_number}: mutated_sequence does not carry {m.mt} at position {m.pos}"
                            )
                yield row_number, mutant, mutations, score, int(score_bin), sequence
    except UnicodeDecodeError as exc:
        raise DatasetError(f"not a text file (UTF-8 decoding failed at byte {exc.start})") from exc
    except csv.Error as exc:
        raise DatasetError(f"malformed {file_format.upper()}: {exc}") from exc


def validate_dms(path: Path, file_format: str) -> dict:
    n = n_multi = 0
    max_pos = 0
    lo, hi = math.inf, -math.inf
    lengths = set()
    has_seq = False
    for _row, _mutant, mutations, score, _bin, sequence in iter_rows(path, file_format):
        n += 1
        n_multi += len(mutations) > 1
        max_pos = max(max_pos, *(m.pos for m in mutations))
        lo, hi = min(lo, score), max(hi, score)
        if sequence is not None:
            has_seq = True
            lengths.add(len(sequence))
    if n == 0:
        raise DatasetError("empty file: a header but no data rows")
    if len(lengths) > 1:
        raise DatasetError("mutated_sequence lengths differ between rows (indels are not supported)")
    return {
        "n_records": n,
        "n_multi_mutants": n_multi,
        "max_position": max_pos,
        "score_min": lo,
        "score_max": hi,
        "has_mutated_sequence": has_seq,
        "sequence_length": lengths.pop() if lengths else None,
    }


@dataclass
class DMSData:
    mutants: list[str]
    mutations: list[list[Mutation]]
    sequences: list[str]
    scores: np.ndarray
    bins: np.ndarray

    @property
    def first_positions(self) -> np.ndarray:
        """The first mutated position of each variant: the key for position-based splits."""
        return np.array([min(m.pos for m in muts) for muts in self.mutations])


def load_dms(path: Path, file_format: str, wild_type: str | None = None) -> DMSData:
    """Read a table for training; sequences from ``mutated_sequence`` or the wild type + mutant."""
    mutants, mutations, sequences, scores, bins = [], [], [], [], []
    for row, mutant, muts, score, score_bin, sequence in iter_rows(path, file_format):
        if sequence is None:
            if wild_type is None:
                raise DatasetError("the table has no mutated_sequence column: give a wild-type FASTA")
            sequence = apply_mutant(wild_type, muts, f"{mutant!r} (row {row})")
        elif wild_type is not None:
            apply_mutant(wild_type, muts, f"{mutant!r} (row {row})")
        mutants.append(mutant)
        mutations.append(muts)
        sequences.append(sequence)
        scores.append(score)
        bins.append(score_bin)
    if not mutants:
        raise DatasetError("empty file: a header but no data rows")
    if len({len(s) for s in sequences}) > 1:
        raise DatasetError("sequences differ in length (indels are not supported)")
    return DMSData(mutants, mutations, sequences, np.asarray(scores, dtype=float), np.asarray(bins, dtype=int))
