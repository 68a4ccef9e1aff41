"""PET-MAD (metatrain). UNTESTED here; written against pet-mad's documented
``PETMADCalculator(version=..., device=...)``; the package fetches the checkpoint for
``version`` on a worker node on first use.
"""


def build(spec: dict, device: str, dtype: str):
    from pet_mad.calculator import PETMADCalculator

    return PETMADCalculator(version=spec.get("version", "latest"), device=device)
