"""Training jobs: DMS fitness models and MACE fine-tuning, run as ordinary tasks.

Training is where models come from, so it lives in ``models_app``; its two task kinds register
with the executor registry (``mofsim_site.executors``) from ``ModelsAppConfig.ready`` — the task
core knows nothing about training. This package is feature code: unlike the rest of
``models_app`` it may use the task core (jobs are Tasks, submitted through the task API).

Layout (why it is split this way):

* ``dms``, ``dms_models``, ``splits``, ``vocab``, ``metrics``, ``mace_ft``, ``registry`` — plain
  Python (numpy/torch, no Django): the trainers, testable alone like every executor; data moves
  with ``mofsim_site.transfer``.
* ``jobs`` — the executors registered as ``train_dms`` / ``train_mace``, plain Python too: a
  thin shell that stages the input data (signed URL or local path), calls the trainer in a
  scratch directory and delivers the artifacts (multipart upload with the node token, or a
  local copy). ``steps`` — their ``prepare`` / ``finish`` hooks, the Django side on the worker:
  resolving datasets, base model and credentials into plain inputs; registering a trained model.
* ``dispatch`` (signed data URLs), ``server`` (job submission, artifact intake, model
  registration), ``api`` (the ``/api/v1/jobs`` endpoints), ``params`` and ``plan`` — the Django
  side used by the web process.
"""

from mofsim_site.executors import ExecutorEntry, register

KINDS = (
    ExecutorEntry("train_dms", "Train DMS fitness model", "models_app.training.jobs.run_train_dms",
                  "models_app.training.params.TrainDMSParams", needs_structure=False, needs_model=False,
                  prepare="models_app.training.steps.prepare_job"),
    ExecutorEntry("train_mace", "Train / fine-tune MACE", "models_app.training.jobs.run_train_mace",
                  "models_app.training.params.TrainMACEParams", needs_structure=False, needs_model=False,
                  prepare="models_app.training.steps.prepare_job", finish="models_app.training.steps.finish_mace"),
)  # fmt: skip


def register_kinds() -> None:
    for entry in KINDS:
        register(entry)
