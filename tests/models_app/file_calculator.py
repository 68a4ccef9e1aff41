"""An ASE calculator whose parameters are a weight file: Lennard-Jones with sigma/epsilon/rc read
from JSON. Lets hub-weight tests see that the loaded file is the one served (different file,
different energy) with the shared venv alone."""

import json
from pathlib import Path

from ase.calculators.lj import LennardJones


class FileLennardJones(LennardJones):
    def __init__(self, path: str):
        super().__init__(**json.loads(Path(path).read_text()))
