"""Archiving an attempt's folder where it already lies (``tasks_app.archive.archive_files``, issue 12).

On local storage the attempt's work directory is its artifacts' final place: the fast path
records each plain file without resolving paths per file. Parity: it returns exactly what
``put_file`` returns for every file, and a file ``put_file`` would refuse or rename (a symlink
out of WORKDIR, an unsafe name) still goes through ``put_file``."""

import hashlib
import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings

from mofsim_site.files import UploadError
from tasks_app import archive


def attempt_folder(files: dict[str, bytes]):
    task = SimpleNamespace(pk=uuid.uuid4())
    lease = SimpleNamespace(attempt=1, token=None)
    folder = settings.WORKDIR / archive.attempt_key(task.pk, 1)
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return task, lease, folder


def reference(monkeypatch, *args):
    with monkeypatch.context() as m:
        m.setattr(archive, "_is_final_place", lambda *a: False)
        return archive.archive_files(*args)


def test_plain_files_are_recorded_as_put_file_records_them(monkeypatch):
    assert archive.local_storage()
    files = {"result.json": b'{"energy_ev": -1.0}', "structure.extxyz": b"4\n\n", "task.log": b"line\n"}
    task, lease, folder = attempt_folder(files)
    known = {"result.json": hashlib.sha256(files["result.json"]).hexdigest()}
    fast = archive.archive_files(task, lease, folder, known)
    assert archive._is_final_place(task.pk, 1, folder)
    assert fast == reference(monkeypatch, task, lease, folder, known)
    assert [(f.name, f.size_bytes, f.sha256) for f in fast] == [
        (name, len(data), hashlib.sha256(data).hexdigest()) for name, data in sorted(files.items())]  # fmt: skip
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)  # nothing copied


def test_an_unsafe_name_is_renamed_as_before(monkeypatch):
    task, lease, folder = attempt_folder({"my file.txt": b"x"})
    fast = archive.archive_files(task, lease, folder)
    assert [(f.name, f.path) for f in fast] == [("my_file.txt", f"{archive.attempt_key(task.pk, 1)}/my_file.txt")]
    assert (folder / "my_file.txt").read_bytes() == b"x"


def test_a_symlink_out_of_workdir_is_refused_as_before(tmp_path, monkeypatch):
    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    task, lease, folder = attempt_folder({})
    (folder / "leak.txt").symlink_to(outside)
    with pytest.raises(UploadError):
        archive.archive_files(task, lease, folder)
    with pytest.raises(UploadError):
        reference(monkeypatch, task, lease, folder)


def test_another_folder_is_copied_into_place(tmp_path):
    task = SimpleNamespace(pk=uuid.uuid4())
    (tmp_path / "a.txt").write_bytes(b"abc")
    stored = archive.archive_files(task, SimpleNamespace(attempt=2, token=None), tmp_path)
    assert not archive._is_final_place(task.pk, 2, tmp_path)
    assert [(f.name, f.size_bytes) for f in stored] == [("a.txt", 3)]
    assert (settings.WORKDIR / archive.attempt_key(task.pk, 2) / "a.txt").read_bytes() == b"abc"
