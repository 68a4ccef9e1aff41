"""The MLIP registry: which potentials exist and how a worker builds a calculator for one."""

import uuid

from django.conf import settings
from django.db import models

from models_app.choices import DatasetKind, ModelFamily, ModelSource, ValidationStatus
from mofsim_site.querysets import OwnedQuerySet


class MLModelQuerySet(models.QuerySet):
    def usable(self):
        """Models a task may run on: enabled by the operator and validated."""
        return self.filter(enabled=True, validation_status=ValidationStatus.VALID)


class MLModel(models.Model):
    """A registered interatomic potential.

    ``spec()`` turns the row into the plain dict the Django-free loader understands, so workers
    and the benchmark harness build calculators the same way.
    """

    name = models.SlugField(max_length=100, unique=True)
    family = models.CharField(max_length=20, choices=ModelFamily.choices)
    source = models.CharField(max_length=20, choices=ModelSource.choices, default=ModelSource.BUILTIN)
    description = models.TextField(blank=True)
    config = models.JSONField(default=dict, blank=True, help_text="loader options, e.g. model_name, default_dtype")
    model_path = models.CharField(max_length=500, blank=True, help_text="model file relative to WORKDIR")
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    validation_status = models.CharField(
        max_length=20, choices=ValidationStatus.choices, default=ValidationStatus.VALID
    )
    validation_message = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MLModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "ML potential"

    def __str__(self) -> str:
        return self.name

    @property
    def is_usable(self) -> bool:
        return self.enabled and self.validation_status == ValidationStatus.VALID

    def spec(self) -> dict:
        spec = {"name": self.name, "family": self.family, "sha256": self.sha256, **self.config}
        if self.model_path:
            spec["model_path"] = str(settings.WORKDIR / self.model_path)
        return spec


class TrainingDataset(models.Model):
    """An uploaded, validated training data file under ``<WORKDIR>/raw/<project>/``.

    The row is written only after the file parsed (models_app.datasets.store), so every dataset a
    job can name is known to be readable; ``summary`` keeps what validation learned (columns,
    record counts, sequence length, elements) so pages and the job API need not reopen the file.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_datasets")
    project = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=DatasetKind.choices)
    file_format = models.CharField(max_length=10, help_text="fasta, csv, tsv or extxyz")
    path = models.CharField(max_length=500, unique=True, help_text="file relative to WORKDIR")
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField()
    n_records = models.PositiveIntegerField(help_text="sequences, table rows or frames")
    summary = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, help_text="upload time")

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def absolute_path(self):
        return settings.WORKDIR / self.path
