"""The worker's model cache is bounded: past MOFSIM_MODEL_CACHE_SIZE the least recently used goes."""

import pytest

from models_app import cache
from mofsim_site.worker_config import WorkerConfigError


@pytest.fixture
def empty_cache():
    cache.unload()
    yield
    cache.unload()


def emt(name):
    return {"name": name, "family": "emt", "sha256": ""}


def test_loading_past_the_size_unloads_the_least_recently_used(empty_cache, monkeypatch):
    monkeypatch.setenv("MOFSIM_MODEL_CACHE_SIZE", "2")
    first = cache.get_calculator(emt("a"), "cpu")
    cache.get_calculator(emt("b"), "cpu")
    assert cache.get_calculator(emt("a"), "cpu") is first  # a hit, and now the most recently used
    cache.get_calculator(emt("c"), "cpu")
    assert cache.loaded_names() == ["a", "c"]  # b was the least recently used
    assert cache.get_calculator(emt("a"), "cpu") is first


def test_a_bad_cache_size_is_refused_naming_the_variable(empty_cache, monkeypatch):
    monkeypatch.setenv("MOFSIM_MODEL_CACHE_SIZE", "zero")
    with pytest.raises(WorkerConfigError, match="MOFSIM_MODEL_CACHE_SIZE"):
        cache.get_calculator(emt("a"), "cpu")
