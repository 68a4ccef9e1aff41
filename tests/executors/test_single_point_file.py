"""structure.extxyz is written with its format named (``tasks_app.executors.single_point``, issue 12):
the bytes are those ASE writes when it guesses the format from the file name."""

from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import write

from tasks_app.executors import single_point


class Report:
    def __init__(self, workdir):
        self.workdir = workdir

    def progress(self, *args, **kwargs):
        pass

    def log(self, message, level="INFO"):
        pass


def test_the_file_is_what_a_guessed_format_writes(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.rattle(0.01, seed=2)
    (tmp_path / "run").mkdir()
    result = single_point.run(atoms, EMT(), {"compute_stress": True}, Report(tmp_path / "run"))
    written = (tmp_path / "run" / "structure.extxyz").read_bytes()

    reference = atoms.copy()
    reference.calc = EMT()
    reference.get_potential_energy(), reference.get_forces(), reference.get_stress()
    write(tmp_path / "structure.extxyz", reference)  # no format: ASE picks it from the name
    assert written == (tmp_path / "structure.extxyz").read_bytes()
    assert b"energy=" in written and result["n_atoms"] == 4
