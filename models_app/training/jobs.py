"""The ``train_dms`` / ``train_mace`` executors: stage data, train, deliver artifacts.

These are the worker-side shells around the Django-free trainers. Two modes, chosen the way
heartbeats choose (nodes_app.heartbeat):

* ``MOFSIM_SERVER_URL`` set — a node on another machine: each input dataset is fetched through
  a signed, expiring URL and checked against its SHA-256; every output file is uploaded to
  ``POST /api/v1/jobs/{id}/artifacts`` with the node token (``MOFSIM_NODE_NAME`` /
  ``MOFSIM_NODE_TOKEN``). No shared disk.
* otherwise — the worker shares WORKDIR with the web process: datasets are read in place
  (checksum verified), outputs are copied into ``artifacts/<task_id>/``.

Training itself happens in a scratch directory ``TRAINING_SCRATCH_DIR/<task_id>/``; after the
job only the newest ``TRAINING_KEEP_JOB_DIRS`` such directories are kept. Plugins under
``<WORKDIR>/plugins`` are imported here, in the worker, never in the web process.
"""

import shutil
from pathlib import Path

from django.conf import settings

from models_app.devices import pick_device
from models_app.models import MLModel, TrainingDataset
from models_app.training import registry
from models_app.training.dispatch import data_url
from models_app.training.server import register_trained_model
from mofsim_site import transfer
from mofsim_site.executors import ExecutorError
from mofsim_site.worker_config import worker_config
from tasks_app import worker_context
from tasks_app.inputs import ensure_local_model
from tasks_app.models import Task


def _task_id(report) -> str:
    task = getattr(report, "task", None)
    return str(task.pk) if task is not None else Path(report.workdir).name


class JobSandbox:
    def __init__(self, report):
        self.report = report
        self.task_id = _task_id(report)
        self.root = Path(settings.TRAINING_SCRATCH_DIR)
        self.dir = self.root / self.task_id
        self.inputs = self.dir / "inputs"
        self.outputs = self.dir / "outputs"
        shutil.rmtree(self.dir, ignore_errors=True)  # a re-queued attempt starts clean
        self.inputs.mkdir(parents=True)
        self.outputs.mkdir(parents=True)
        config = worker_config()
        self.server = config.server_url
        self.node_name, self.node_token = config.credentials() if config.remote else ("", "")

    @property
    def remote(self) -> bool:
        return bool(self.server)

    def __enter__(self):
        loaded = registry.load_plugins(settings.WORKDIR / "plugins")
        if loaded:
            self.report.log(f"loaded plugins: {', '.join(Path(p).name for p in loaded)}")
        return self

    def __exit__(self, *exc):
        removed = transfer.prune(self.root, settings.TRAINING_KEEP_JOB_DIRS, protect=self.dir)
        if removed:
            self.report.log(f"removed {len(removed)} old training scratch dir(s)", "DEBUG")
        return False

    def stage(self, refs: dict) -> dict:
        """Dataset references → ``{role: {"path", "file_format", ...}}`` of verified local files."""

        staged = {}
        for role, ref in refs.items():
            if not ref:
                staged[role] = None
                continue
            if self.remote:
                dest = self.inputs / f"{role}.{ref['file_format']}"
                url = data_url(self.server, ref["dataset"], self.task_id)
                try:
                    transfer.download(url, dest, ref["sha256"])
                except (transfer.TransferError, OSError) as exc:
                    raise ExecutorError(f"{role}: {exc}") from exc
                self.report.log(
                    f"fetched {role} dataset {ref.get('name', '')} via signed URL ({dest.stat().st_size} bytes)"
                )
            else:
                dataset = TrainingDataset.objects.filter(pk=ref["dataset"]).first()
                if dataset is None:
                    raise ExecutorError(f"{role}: dataset {ref['dataset']} no longer exists")
                dest = dataset.absolute_path.resolve()
                if not dest.is_relative_to(settings.WORKDIR) or transfer.sha256_file(dest) != ref["sha256"]:
                    raise ExecutorError(f"{role}: dataset file is missing or changed since the job was submitted")
            staged[role] = {**ref, "path": dest}
        return staged

    def deliver(self) -> dict:
        """Send every output file to the platform; ``{name: {sha256, size_bytes, ...}}``."""
        delivered = {}
        target = Path(self.report.workdir)
        for path in sorted(p for p in self.outputs.iterdir() if p.is_file()):
            if self.remote:
                try:
                    body = transfer.upload_artifact(
                        self.server,
                        self.task_id,
                        self.node_name,
                        self.node_token,
                        path,
                        lease_token=getattr(self.report, "lease_token", None),
                    )
                except (transfer.TransferError, OSError) as exc:
                    raise ExecutorError(str(exc)) from exc
                delivered[path.name] = {k: body[k] for k in ("sha256", "size_bytes") if k in body}
                if body.get("registered_model"):
                    delivered[path.name]["registered_model"] = body["registered_model"]
            else:
                shutil.copyfile(path, target / path.name)
                delivered[path.name] = {"sha256": transfer.sha256_file(path), "size_bytes": path.stat().st_size}
        self.report.log(f"delivered {len(delivered)} artifact(s) {'by upload' if self.remote else 'locally'}")
        return delivered


def _device() -> str:

    return worker_context.device() or pick_device()


def run_train_dms(atoms, calculator, params, report) -> dict:
    from models_app.training.dms import train_dms

    with JobSandbox(report) as box:
        data = box.stage(params["data"])
        result = train_dms(data, params, box.outputs, report, device=_device())
        result["artifacts"] = box.deliver()
        result["transfer"] = "http" if box.remote else "local"
    return result


def run_train_mace(atoms, calculator, params, report) -> dict:
    from models_app.training.mace_ft import train_mace

    base_path = None
    if params.get("base_model"):
        base = MLModel.objects.filter(name=params["base_model"], family="mace").first()
        if base is None or not base.model_path:
            raise ExecutorError(f"base model {params['base_model']!r} is not a MACE model with a file")

        base_path = ensure_local_model(base.spec())["model_path"]  # fetched from the server on a remote node
    with JobSandbox(report) as box:
        data = box.stage(params["data"])
        result = train_mace(data, params, box.outputs, report, device=_device(), base_model_path=base_path)
        result["artifacts"] = box.deliver()
        result["transfer"] = "http" if box.remote else "local"
        registered = result["artifacts"].get("model.model", {}).get("registered_model")
        if not box.remote:
            task = Task.objects.get(pk=box.task_id)
            registered = register_trained_model(task, Path(report.workdir) / "model.model")
        result["registered_model"] = registered
        if registered and registered.get("validation_status") == "invalid":
            raise ExecutorError(f"trained model failed validation: {registered.get('validation_message')}")
    return result
