"""Training datasets: parsing and validation (Django-free modules) and storage (``store``).

``fasta``, ``dms``, ``extxyz`` and ``sqlite_import`` only read files and raise ``DatasetError``
with a message a user can act on; the trainers in ``models_app.training`` reuse the same readers,
so what validated on upload is exactly what a worker will train on.
"""


class DatasetError(ValueError):
    """A dataset problem to show to the user (HTTP 400 / form error)."""
