"""The ``train_dms`` / ``train_mace`` executors: stage data, train, deliver artifacts — plain Python.

Like every executor (DESIGN.md rule 3) these import no Django model and read neither settings
nor the environment. Everything the platform knows is resolved before they run and recorded
after, by the kinds' ``prepare`` and ``finish`` steps (``models_app.training.steps``), which
the runner calls around them. ``prepare`` puts a plain ``params["job"]`` next to the validated
parameters::

    {"task_id", "device", "scratch_dir", "keep_dirs", "plugins_dir",
     "remote": {"server", "node_name", "node_token", "lease_token"} | None,
     "data": {role: {"dataset", "sha256", "file_format", "name", "path" | "url"} | None},
     "base_model_path": str | None}

Two modes, chosen the way heartbeats choose (nodes_app.heartbeat):

* ``remote`` set — a node on another machine: each input dataset is fetched through its signed,
  expiring ``url`` and checked against its SHA-256; every output file is uploaded to
  ``POST /api/v1/jobs/{id}/artifacts`` with the node token. No shared disk.
* otherwise — the worker shares WORKDIR with the web process: datasets are read in place at
  ``path`` (checksum verified), outputs are copied into the task's artifact directory.

Training itself happens in a scratch directory ``<scratch_dir>/<task_id>/``; after the job only
the newest ``keep_dirs`` such directories are kept. Plugins under ``plugins_dir`` are imported
here, in the worker, never in the web process.
"""

import shutil
from pathlib import Path

from models_app.training import dms, mace_ft, registry
from mofsim_site import transfer
from mofsim_site.executors import ExecutorError


class JobSandbox:
    def __init__(self, job: dict, report):
        self.job, self.report = job, report
        self.task_id = job["task_id"]
        self.root = Path(job["scratch_dir"])
        self.dir = self.root / self.task_id
        self.inputs = self.dir / "inputs"
        self.outputs = self.dir / "outputs"
        shutil.rmtree(self.dir, ignore_errors=True)  # a re-queued attempt starts clean
        self.inputs.mkdir(parents=True)
        self.outputs.mkdir(parents=True)
        self.remote = job.get("remote")

    def __enter__(self):
        loaded = registry.load_plugins(Path(self.job["plugins_dir"]))
        if loaded:
            self.report.log(f"loaded plugins: {', '.join(Path(p).name for p in loaded)}")
        return self

    def __exit__(self, *exc):
        removed = transfer.prune(self.root, self.job["keep_dirs"], protect=self.dir)
        if removed:
            self.report.log(f"removed {len(removed)} old training scratch dir(s)", "DEBUG")
        return False

    def stage(self) -> dict:
        """The job's dataset references → ``{role: {..., "path"}}`` of verified local files."""
        staged = {}
        for role, ref in self.job["data"].items():
            if not ref:
                staged[role] = None
                continue
            if self.remote:
                dest = self.inputs / f"{role}.{ref['file_format']}"
                try:
                    transfer.download(ref["url"], dest, ref["sha256"])
                except (transfer.TransferError, OSError) as exc:
                    raise ExecutorError(f"{role}: {exc}") from exc
                self.report.log(
                    f"fetched {role} dataset {ref.get('name', '')} via signed URL ({dest.stat().st_size} bytes)"
                )
            else:
                dest = Path(ref["path"])
                if not dest.is_file() or transfer.sha256_file(dest) != ref["sha256"]:
                    raise ExecutorError(f"{role}: dataset file is missing or changed since the job was submitted")
            staged[role] = {k: v for k, v in ref.items() if k != "url"} | {"path": dest}
        return staged

    def deliver(self) -> dict:
        """Send every output file to the platform; ``{name: {sha256, size_bytes, ...}}``."""
        delivered = {}
        target = Path(self.report.workdir)
        for path in sorted(p for p in self.outputs.iterdir() if p.is_file()):
            if self.remote:
                try:
                    body = transfer.upload_artifact(
                        self.remote["server"],
                        self.task_id,
                        self.remote["node_name"],
                        self.remote["node_token"],
                        path,
                        lease_token=self.remote.get("lease_token"),
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


def _split(params: dict) -> tuple[dict, dict]:
    """The job's plain inputs, and the training parameters without them (trainers write those to files)."""
    if "job" not in params:
        raise ExecutorError("training jobs run through the platform: their inputs were not prepared")
    return params["job"], {k: v for k, v in params.items() if k != "job"}


def run_train_dms(atoms, calculator, params, report) -> dict:
    job, params = _split(params)
    with JobSandbox(job, report) as box:
        data = box.stage()
        result = dms.train_dms(data, params, box.outputs, report, device=job["device"])
        result["artifacts"] = box.deliver()
        result["transfer"] = "http" if box.remote else "local"
    return result


def run_train_mace(atoms, calculator, params, report) -> dict:
    job, params = _split(params)
    with JobSandbox(job, report) as box:
        data = box.stage()
        result = mace_ft.train_mace(
            data, params, box.outputs, report, device=job["device"], base_model_path=job.get("base_model_path")
        )
        result["artifacts"] = box.deliver()
        result["transfer"] = "http" if box.remote else "local"
        # a node's upload registered the model on the server; a local one is registered by finish_mace
        result["registered_model"] = result["artifacts"].get("model.model", {}).get("registered_model")
    return result
