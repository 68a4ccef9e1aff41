"""``worker_config`` answers from the previous call only while its inputs are unchanged (issue 12)."""

import pytest

from mofsim_site.worker_config import WorkerConfigError, worker_config


def test_a_changed_variable_is_seen_at_the_next_call(monkeypatch, tmp_path):
    monkeypatch.setenv("MOFSIM_DEVICE", "cpu")
    monkeypatch.delenv("MOFSIM_NODE_CACHE_DIR", raising=False)
    first = worker_config()
    assert worker_config() is first  # nothing changed: the same answer, no file-system calls
    monkeypatch.setenv("MOFSIM_DEVICE", "CUDA")
    assert worker_config().device == "cuda"
    monkeypatch.setenv("MOFSIM_NODE_CACHE_DIR", str(tmp_path))
    assert worker_config().cache_dir == tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOFSIM_NODE_CACHE_DIR", "relative")
    assert worker_config().cache_dir == tmp_path.resolve() / "relative"
    monkeypatch.chdir(tmp_path.parent)  # a relative cache path follows the working directory
    assert worker_config().cache_dir == tmp_path.parent.resolve() / "relative"


def test_a_bad_value_fails_at_every_call(monkeypatch):
    monkeypatch.setenv("MOFSIM_MODEL_CACHE_SIZE", "0")
    for _ in range(2):
        with pytest.raises(WorkerConfigError):
            worker_config()
