"""Hub weights: fetched once per node from a local http.server, cached under the node cache,
their SHA-256 recorded on the model row and checked on every load; never in the web process."""

import hashlib
import importlib
import json
import threading

import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from models_app.families import ModelLoadError, hub
from models_app.hub_weights import ensure_hub_weights, hub_root
from models_app.loaders import build_calculator
from models_app.models import MLModel
from mofsim_site import roles
from tasks_app.choices import TaskStatus
from tests.conftest import make_task
from tests.hub_server import serving

LJ = {"sigma": 2.3, "epsilon": 0.4, "rc": 6.0}


@pytest.fixture(autouse=True)
def worker_process(monkeypatch, tmp_path):
    """A worker process with its own node cache (an earlier test may have imported the ASGI app)."""
    monkeypatch.setattr(roles, "_web_process", False)
    monkeypatch.setenv("MOFSIM_NODE_CACHE_DIR", str(tmp_path / "node"))


@pytest.fixture
def model_hub(tmp_path):
    (tmp_path / "hub").mkdir()
    with serving(tmp_path / "hub") as server:
        yield server


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_weights_download_once_into_the_family_cache(model_hub, tmp_path):
    data = b"weights " * 1000
    url = model_hub.publish("orb-v3.ckpt", data)
    root = tmp_path / "cache"
    first, first_sha = hub.cached_weights(url, "orb", root)
    second, second_sha = hub.cached_weights(url, "orb", root, expected=first_sha)
    assert first == second and first.read_bytes() == data and first_sha == second_sha == sha(data)
    assert first.is_relative_to(root / "orb") and first.name == "orb-v3.ckpt"
    assert model_hub.gets == ["/orb-v3.ckpt"]  # the second load came from the cache
    assert [p.name for p in first.parent.iterdir() if p.name.endswith(".part")] == []


def test_a_download_with_another_checksum_is_refused_and_not_cached(model_hub, tmp_path):
    url = model_hub.publish("w.ckpt", b"tampered")
    with pytest.raises(ModelLoadError, match="refusing to load it"):
        hub.cached_weights(url, "orb", tmp_path / "cache", expected=sha(b"original"))
    target = hub.cache_path(tmp_path / "cache", "orb", url)
    assert not target.exists() and [p for p in target.parent.iterdir() if p.name != ".lock"] == []


def test_a_cached_file_that_changed_is_refused(model_hub, tmp_path):
    url = model_hub.publish("w.ckpt", b"original")
    path, recorded = hub.cached_weights(url, "orb", tmp_path / "cache")
    path.write_bytes(b"changed on disk")
    with pytest.raises(ModelLoadError, match="refusing to load it"):
        hub.cached_weights(url, "orb", tmp_path / "cache", expected=recorded)


def test_concurrent_fetchers_download_once_and_all_get_the_whole_file(tmp_path):
    data = bytes(range(256)) * 256  # 64 KiB, sent in 16 slow chunks: the fetchers overlap
    (tmp_path / "hub").mkdir()
    results, errors = [], []

    def fetch(url):
        try:
            results.append(hub.cached_weights(url, "orb", tmp_path / "cache"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with serving(tmp_path / "hub", delay_s=0.02) as server:
        url = server.publish("big.ckpt", data)
        threads = [threading.Thread(target=fetch, args=(url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert server.gets == ["/big.ckpt"]
    assert errors == [] and len(results) == 4
    assert {(str(path), digest) for path, digest in results} == {(str(results[0][0]), sha(data))}
    assert results[0][0].read_bytes() == data


def test_urls_and_families_stay_inside_the_cache(tmp_path):
    with pytest.raises(ModelLoadError, match="not an http"):
        hub.cache_path(tmp_path, "orb", "file:///etc/passwd")
    with pytest.raises(ModelLoadError, match="not a plain name"):
        hub.cache_path(tmp_path, "../x", "http://h/w")
    path = hub.cache_path(tmp_path, "orb", "http://h/a/..%2F..%2F.secret")
    assert path.parent.parent == tmp_path / "orb" and not path.name.startswith(".")


def test_the_web_process_never_downloads(model_hub, tmp_path, monkeypatch):
    import mofsim_site.wsgi

    importlib.reload(mofsim_site.wsgi)  # what a web server does at start
    assert roles.is_web_process()
    url = model_hub.publish("w.ckpt", b"weights")
    with pytest.raises(hub.HubDownloadRefused, match="web process never downloads"):
        hub.cached_weights(url, "orb", tmp_path / "cache")
    assert model_hub.gets == []  # refused before any connection


def hub_model(url: str, sha256: str = "") -> MLModel:
    return MLModel.objects.create(
        name="lj-from-hub",
        family="ase",
        source="registered",
        sha256=sha256,
        config={
            "calculator": "tests.models_app.file_calculator:FileLennardJones",
            "path_kwarg": "path",
            "weights_url": url,
        },
    )


@pytest.mark.django_db
def test_the_first_download_records_the_checksum_and_later_loads_check_it(model_hub):
    data = json.dumps(LJ).encode()
    model = hub_model(model_hub.publish("lj.json", data))
    spec = ensure_hub_weights(model, model.spec())
    model.refresh_from_db()
    assert model.sha256 == spec["sha256"] == sha(data) and model.size_bytes == len(data)
    assert spec["model_path"].startswith(str(hub_root() / "ase"))

    atoms = bulk("Cu", "fcc", a=3.6)
    atoms.calc = build_calculator(spec, "cpu")
    reference = atoms.copy()
    reference.calc = LennardJones(**LJ)
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy())

    # the hub now serves other bytes and the node lost its cache: the recorded checksum refuses them
    model_hub.publish("lj.json", json.dumps({**LJ, "epsilon": 0.5}).encode())
    for path in hub_root().rglob("lj.json"):
        path.unlink()
    with pytest.raises(ModelLoadError, match="refusing to load it"):
        ensure_hub_weights(model, model.spec())


@pytest.mark.django_db
def test_a_task_on_a_hub_model_records_the_checksum_in_its_provenance(model_hub, owner, cu_structure, run_inline):
    data = json.dumps(LJ).encode()
    model = hub_model(model_hub.publish("lj.json", data))
    task = run_inline(make_task(owner, cu_structure, model), device="cpu")
    assert task.status == TaskStatus.COMPLETED, task.error
    assert task.result["provenance"]["model"]["sha256"] == sha(data)
    assert MLModel.objects.get(pk=model.pk).sha256 == sha(data)
    again = run_inline(make_task(owner, cu_structure, model), device="cpu")
    assert again.status == TaskStatus.COMPLETED and model_hub.gets == ["/lj.json"]  # cached on this node


def test_where_weights_come_from():
    assert hub.source_url({"family": "sevennet", "model_name": "7net-0"}) is None  # in its wheel
    assert hub.source_url({"family": "ase", "weights_url": "https://h/w.bin"}) == "https://h/w.bin"
    assert hub.source_url({"family": "ase", "weights_url": "https://h/w.bin", "model_path": "/f"}) is None
    assert hub.source_url({"family": "mattersim", "model_name": "MatterSim-v1.0.0-1M"}) == (
        "https://raw.githubusercontent.com/microsoft/mattersim/main/pretrained_models/mattersim-v1.0.0-1M.pth"
    )
    with pytest.raises(ModelLoadError, match="ships no model"):
        hub.source_url({"family": "mattersim", "model_name": "MatterSim-v9"})
