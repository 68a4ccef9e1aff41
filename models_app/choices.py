from django.db import models


class ModelFamily(models.TextChoices):
    """Stored in ``MLModel.family``; each value has a loader in ``models_app.families`` (same labels)."""

    SEVENNET = "sevennet", "SevenNet"
    MACE = "mace", "MACE"
    EMT = "emt", "ASE EMT (test calculator)"
    CHGNET = "chgnet", "CHGNet"
    ORB = "orb", "ORB"
    MATTERSIM = "mattersim", "MatterSim"
    FAIRCHEM = "fairchem", "fairchem (eSEN, UMA)"
    GRACE = "grace", "GRACE (tensorpotential)"
    PETMAD = "petmad", "PET-MAD"
    ASE = "ase", "ASE calculator by dotted path (staff)"


class ModelSource(models.TextChoices):
    BUILTIN = "builtin", "Built-in"
    UPLOAD = "upload", "Uploaded file"
    TRAINED = "trained", "Trained on mofsim"


class ValidationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    VALID = "valid", "Valid"
    INVALID = "invalid", "Invalid"


class DatasetKind(models.TextChoices):
    """What a training dataset holds; decides which validator and which trainer apply."""

    FASTA = "fasta", "Sequences (FASTA)"
    DMS = "dms", "Fitness scores (ProteinGym DMS table)"
    STRUCTURES = "structures", "Labelled structures (extXYZ)"
