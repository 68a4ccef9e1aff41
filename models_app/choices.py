from django.db import models


class ModelFamily(models.TextChoices):
    SEVENNET = "sevennet", "SevenNet"
    MACE = "mace", "MACE"
    EMT = "emt", "ASE EMT (test calculator)"


class ModelSource(models.TextChoices):
    BUILTIN = "builtin", "Built-in"
    UPLOAD = "upload", "Uploaded file"
    TRAINED = "trained", "Trained on mofsim"


class ValidationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"
