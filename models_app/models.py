"""The MLIP registry: which potentials exist and how a worker builds a calculator for one."""

from django.conf import settings
from django.db import models

from models_app.choices import ModelFamily, ModelSource, ValidationStatus


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

    class Meta:
        ordering = ["name"]
        verbose_name = "ML potential"

    def __str__(self) -> str:
        return self.name

    def spec(self) -> dict:
        spec = {"name": self.name, "family": self.family, "sha256": self.sha256, **self.config}
        if self.model_path:
            spec["model_path"] = str(settings.WORKDIR / self.model_path)
        return spec
