"""A cached calculator computes again for every task, its parts too (``runner._forget_results``).

The model cache keeps one calculator per model, device and D3 setting; ASE calculators keep the
results of the last atoms they saw. A D3 calculator is ASE's ``SumCalculator`` of the model and
D3, and each part keeps its own results: before, only the sum was reset, so a second task on the
same structure got the model's numbers from the first one without running it.
"""

from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.mixing import SumCalculator

from tasks_app.runner import checked_calculator
from tasks_app.speed import ForceCounter


class CountingEMT(EMT):
    def __init__(self):
        super().__init__()
        self.runs = 0

    def calculate(self, *args, **kwargs):
        self.runs += 1
        return super().calculate(*args, **kwargs)


def one_task(calc) -> tuple[float, int]:
    counter = ForceCounter()
    with checked_calculator(calc, lambda: None, counter):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
        atoms.calc = calc
        energy = atoms.get_potential_energy()
    return energy, counter.calls


def test_each_part_of_a_summed_calculator_runs_again_for_the_same_structure():
    model, dispersion = CountingEMT(), CountingEMT()
    calc = SumCalculator([model, dispersion])
    first = one_task(calc)
    second = one_task(calc)
    assert first == second  # the same numbers, and one counted force call each
    assert (model.runs, dispersion.runs) == (2, 2)


def test_a_plain_calculator_runs_again_for_the_same_structure():
    calc = CountingEMT()
    assert one_task(calc) == one_task(calc)
    assert calc.runs == 2
