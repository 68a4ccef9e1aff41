"""Hub weights on a worker: fetched once into the node cache, their checksum recorded on the model row.

``models_app.families.hub`` (Django-free) downloads and checks; this adds the row. A model from
a hub has no file at registration, so its ``sha256`` starts blank unless staff pinned it: the
first download on any node records the file's SHA-256 (trust on first use), and from then on
every load on every node — fresh download or cached file — must match it or is refused. The
row's ``sha256`` is what each result's provenance records and what the model cache is keyed on.
"""

from models_app.families import ModelLoadError, hub
from models_app.models import MLModel
from mofsim_site.worker_config import worker_config


def hub_root():
    """``<node cache>/models/hub`` (the node cache is WORKDIR unless ``MOFSIM_NODE_CACHE_DIR`` says otherwise)."""
    return worker_config().cache_dir / "models" / "hub"


def ensure_hub_weights(model: MLModel, spec: dict) -> dict:
    """``spec`` with ``model_path`` at the cached weights when the model's come from a hub; else unchanged.

    Records the checksum on ``model`` (row and instance) at the first download.
    """
    url = hub.source_url(spec)
    if url is None:
        return spec
    path, sha = hub.cached_weights(url, model.family, hub_root(), model.sha256 or None)
    if not model.sha256:
        _record(model, sha, path.stat().st_size)
    return {**spec, "model_path": str(path), "sha256": sha}


def _record(model: MLModel, sha: str, size: int) -> None:
    """Write the first checksum; if another node recorded a different one meanwhile, that one stands."""
    MLModel.objects.filter(pk=model.pk, sha256="").update(sha256=sha, size_bytes=size)
    recorded = MLModel.objects.filter(pk=model.pk).values_list("sha256", flat=True).get()
    if recorded != sha:
        raise ModelLoadError(
            f"{model.name}: hub weights have SHA-256 {sha[:12]}…, but {recorded[:12]}… was recorded "
            "by an earlier download; refusing to load them"
        )
    model.sha256, model.size_bytes = sha, size
