"""Atomic structures (uploaded or built-in) and named sets of them."""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q

from mofsim_site.querysets import OwnedQuerySet


class Structure(models.Model):
    """One periodic (or molecular) structure file, parsed and checked with ASE at upload.

    ``path`` is relative to WORKDIR (``raw/<project>/<file>``); the parsed summary fields let
    pages and the API show a structure without re-reading the file.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        BUILTIN = "builtin", "Built-in (MOFSimBench)"

    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="structures"
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UPLOAD)
    path = models.CharField(max_length=500, help_text="file path relative to WORKDIR")
    file_format = models.CharField(max_length=20)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    formula = models.CharField(max_length=200)
    n_atoms = models.PositiveIntegerField()
    volume = models.FloatField(null=True, blank=True, help_text="cell volume in Å³ (null if not periodic)")
    periodic = models.BooleanField(default=True)
    elements = models.JSONField(default=list)
    cell_lengths = models.JSONField(default=list)
    cell_angles = models.JSONField(default=list)
    reference = models.JSONField(
        default=dict,
        blank=True,
        help_text="DFT reference values: dft_volume, dft_b0_gpa, dft_cv300_j_per_g_k, dft_structure",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    SHARED = Q(owner__isnull=True)  # built-in structures: everyone's
    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.formula}, {self.n_atoms} atoms)"

    @property
    def absolute_path(self):
        return settings.WORKDIR / self.path

    @property
    def processed_path(self):
        """The parsed structure as extXYZ (``processed/<sha256>.extxyz``), written at upload so
        workers skip re-parsing CIF symmetry for every task. Derived from the checksum."""
        return settings.WORKDIR / "processed" / f"{self.sha256}.extxyz"

    def atoms_file(self) -> tuple[Path, str | None]:
        """The file ``read_atoms`` parses and its ASE format: the processed copy when there is one."""
        processed = self.processed_path
        if processed.exists():
            return processed, "extxyz"
        return self.absolute_path, None if self.file_format == "cif" else self.file_format

    def read_atoms(self):
        """The structure as ``ase.Atoms``, from the processed copy when there is one."""
        from ase.io import read

        path, file_format = self.atoms_file()
        return read(path, format=file_format)


class StructureSet(models.Model):
    """A named, ordered list of structures: a MOFSimBench set or a user's own."""

    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    builtin = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="structure_sets"
    )
    structures = models.ManyToManyField(Structure, through="StructureSetMember", related_name="sets")
    created_at = models.DateTimeField(auto_now_add=True)

    SHARED = Q(builtin=True)
    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def ordered_structures(self):
        return self.structures.order_by("structuresetmember__index")


class StructureSetMember(models.Model):
    structure_set = models.ForeignKey(StructureSet, on_delete=models.CASCADE)
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE)
    index = models.PositiveIntegerField(help_text="the benchmark's --index order")

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["structure_set", "index"], name="unique_set_index")]
