"""The platform's side of a training job on the worker: ``prepare`` before the executor, ``finish`` after.

The executors (``models_app.training.jobs``) are plain Python; these two steps hold what needs
Django — registered as the kinds' ``prepare`` / ``finish`` hooks and called by the runner
(``tasks_app.runner``) around the executor, under the attempt's lease:

* ``prepare_job`` turns the task's dataset references into files the worker can read (a path
  under WORKDIR, or a signed URL for a node on another machine), resolves the base model's
  file, and passes the worker's settings and node credentials as a plain ``params["job"]``;
* ``finish_mace`` registers the trained model when the worker shares WORKDIR (a node's upload
  registered it on the server already) and fails the job if the model did not validate.
"""

from pathlib import Path

from django.conf import settings

from models_app.models import MLModel, TrainingDataset
from models_app.training.dispatch import data_url
from models_app.training.server import register_trained_model
from mofsim_site.executors import ExecutorError
from mofsim_site.worker_config import worker_config
from tasks_app.inputs import ensure_local_model


def prepare_job(task, params: dict, device: str) -> dict:
    """The executor's parameters: ``params`` plus the plain ``job`` inputs (see ``jobs``)."""
    config = worker_config()
    remote = None
    if config.remote:
        node_name, node_token = config.credentials()
        remote = {
            "server": config.server_url,
            "node_name": node_name,
            "node_token": node_token,
            "lease_token": str(task.lease_token) if task.lease_token else None,
        }
    job = {
        "task_id": str(task.pk),
        "device": device,
        "scratch_dir": str(settings.TRAINING_SCRATCH_DIR),
        "keep_dirs": settings.TRAINING_KEEP_JOB_DIRS,
        "plugins_dir": str(settings.WORKDIR / "plugins"),
        "remote": remote,
        "data": {role: _locate(role, ref, task, remote) for role, ref in params["data"].items()},
        "base_model_path": _base_model_path(params.get("base_model")),
    }
    return {**params, "job": job}


def _locate(role: str, ref: dict | None, task, remote: dict | None) -> dict | None:
    if not ref:
        return None
    if remote:
        return {**ref, "url": data_url(remote["server"], ref["dataset"], task.pk)}
    dataset = TrainingDataset.objects.filter(pk=ref["dataset"]).first()
    if dataset is None:
        raise ExecutorError(f"{role}: dataset {ref['dataset']} no longer exists")
    path = dataset.absolute_path.resolve()
    if not path.is_relative_to(settings.WORKDIR):
        raise ExecutorError(f"{role}: dataset file is missing or changed since the job was submitted")
    return {**ref, "path": str(path)}


def _base_model_path(name: str | None) -> str | None:
    if not name:
        return None
    base = MLModel.objects.filter(name=name, family="mace").first()
    if base is None or not base.model_path:
        raise ExecutorError(f"base model {name!r} is not a MACE model with a file")
    return str(ensure_local_model(base.spec())["model_path"])  # fetched from the server on a remote node


def finish_mace(task, result: dict, workdir: Path) -> dict:
    """Register the trained model (local runs) and refuse one that failed validation."""
    registered = result.get("registered_model")
    if result.get("transfer") == "local":
        registered = register_trained_model(task, Path(workdir) / "model.model")
    result["registered_model"] = registered
    if registered and registered.get("validation_status") == "invalid":
        raise ExecutorError(f"trained model failed validation: {registered.get('validation_message')}")
    return result
