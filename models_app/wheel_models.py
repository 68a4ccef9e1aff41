"""Model files shipped inside a Python wheel that we take as a file, not as a package.

``mace-dac-1`` (MACE-MP-0 medium fine-tuned on GoldDAC MOF + CO2/H2O data, MIT) ships in the
``dac-sim`` 0.0.3 wheel, whose own pins (mace-torch 0.3.6) we do not want. An operator downloads
the wheel (``pip download --no-deps dac-sim==0.0.3``) and runs ``manage.py install_wheel_model``:
the member is extracted under WORKDIR, and trusted only if its SHA-256 equals the value pinned
here; then it goes through the same conversion to the pickle-free format as an upload (in the
sandbox when bubblewrap is present). Nothing here runs in the web process or downloads anything.
"""

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WheelModel:
    name: str
    family: str
    wheel: str  # the wheel file name pip downloads
    member: str  # path of the model file inside the wheel
    sha256: str  # of the member: the only file we accept under this name
    config: dict = field(default_factory=dict)
    description: str = ""


WHEEL_MODELS = {
    m.name: m
    for m in (
        WheelModel(
            name="mace-dac-1",
            family="mace",
            wheel="dac_sim-0.0.3-py3-none-any.whl",
            member="dac_sim/models/mace-dac-1.model",
            sha256="6c31634523ce89f843f8286ebcf841d9a18ab3f2cb505bd52ca1e3e189c34791",
            config={"default_dtype": "float32", "license": "MIT", "source_wheel": "dac-sim==0.0.3"},
            description="MACE-MP-0 medium fine-tuned on MOF + CO2/H2O data (GoldDAC), from the dac-sim 0.0.3 wheel.",
        ),
    )
}


class WheelModelError(Exception):
    pass


def extract(entry: WheelModel, wheel: Path, into: Path) -> Path:
    """Copy ``entry.member`` out of ``wheel`` into a new file under ``into``; checksum must match."""
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise WheelModelError(f"{wheel} is not a readable wheel: {exc}") from exc
    into.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with archive, tempfile.NamedTemporaryFile(dir=into, suffix=Path(entry.member).suffix, delete=False) as out:
        try:
            source = archive.open(entry.member)
        except KeyError as exc:
            raise WheelModelError(f"{wheel.name} has no {entry.member}") from exc
        with source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    path = Path(out.name)
    if digest.hexdigest() != entry.sha256:
        path.unlink()
        raise WheelModelError(
            f"{entry.member} in {wheel.name} has SHA-256 {digest.hexdigest()}, pinned {entry.sha256}; refused"
        )
    return path
