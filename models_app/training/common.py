"""Small helpers shared by the trainers: the train.log tee and JSON/CSV writers."""

import json
from contextlib import contextmanager
from pathlib import Path


class TrainLog:
    """Writes each line to ``train.log`` in the output directory and to the task's log."""

    def __init__(self, outdir: Path, report):
        self.path = Path(outdir) / "train.log"
        self.report = report
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def __call__(self, message: str, level: str = "INFO") -> None:
        self._fh.write(f"{level} {message}\n")
        self._fh.flush()
        self.report.log(message, level)

    def close(self) -> None:
        self._fh.close()


def write_json(path: Path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


@contextmanager
def torch_threads(n: int | None):
    """Limit torch's intra-op threads for the block (restored after).

    Small models train fastest single-threaded: on a loaded 2-core machine one CNN step took
    2 ms with 1 thread and 60 ms with 2 (oversubscription), so the trainers default to 1.
    """
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
