"""The IUPAC one-letter amino-acid codes accepted in sequences and mutant strings.

The 20 standard residues, the ambiguity codes B (D/N), Z (E/Q), J (I/L), X (any), the rare
U (selenocysteine) and O (pyrrolysine), and ``*`` for a stop (nonsense mutants in DMS screens).
One definition, used by upload validation and by the trainers' default vocabulary.
"""

STANDARD = "ACDEFGHIKLMNPQRSTVWY"
AMBIGUOUS = "BZJX"
RARE = "UO"
STOP = "*"
IUPAC_PROTEIN = STANDARD + AMBIGUOUS + RARE + STOP
IUPAC_SET = frozenset(IUPAC_PROTEIN)


def unknown_residues(sequence: str) -> list[str]:
    """Symbols of ``sequence`` that are not IUPAC amino-acid codes, sorted, without repeats."""
    return sorted(set(sequence) - IUPAC_SET)
