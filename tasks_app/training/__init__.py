"""Training jobs: DMS fitness models and MACE fine-tuning, run as ordinary tasks.

Layout (why it is split this way):

* ``dms``, ``dms_models``, ``splits``, ``vocab``, ``metrics``, ``mace_ft``, ``transfer``,
  ``registry`` — plain Python (numpy/torch/requests, no Django): the trainers and the data
  movement, testable alone like every executor.
* ``jobs`` — the executors registered as ``train_dms`` / ``train_mace``: a thin worker-side
  shell that stages the input data (signed URL or local path), calls the trainer in a scratch
  directory and delivers the artifacts (multipart upload with the node token, or a local copy).
* ``dispatch`` (signed data URLs), ``server`` (job submission, artifact intake, model
  registration), ``params`` and ``plan`` — the Django side used by the web process.
"""
