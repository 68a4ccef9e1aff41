"""Parameter validation per task type (DESIGN.md rule 3).

Each serializer's field defaults are the MOFSimBench protocol values; ``PRESETS["quick"]``
overrides them for CPU demos and tests. ``validate_params(kind, data, preset)`` returns the
complete parameter dict stored on the task, or raises ``ValidationError`` naming the field.
Unknown keys are rejected: a typo must not silently fall back to a default.

DFT reference values reach the (Django-free) executors as the optional ``reference`` parameter.
A user may give reference *values* explicitly; otherwise ``run_params`` fills it at run time from
``Structure.reference`` (built-in MOFSimBench structures carry DFT volume, B0, Cv and the path of
the DFT-optimised structure). A file path (``dft_structure``) only ever comes from the structure's
own stored reference, never from a user: a user-given path could read any file under WORKDIR
(another user's upload, the database) and "no such file" told whether a path exists. Stored
paths are resolved and must stay inside ``settings.DATA_DIR`` or ``settings.WORKDIR``.
"""

from django.conf import settings
from rest_framework import serializers

from mofsim_site import executors
from mofsim_site.executors import PRESET_CHOICES, ParamsSerializer, StrictSerializer, plain, validate_params
from mofsim_site.files import DataPathError, resolve_data_path
from tasks_app.executors.interaction_energy import GUESTS
from tasks_app.executors.relax import FILTERS, OPTIMIZERS
from tasks_app.executors.stability import VARIANTS

ENGINES = ("batched", "ase")

__all__ = ["PRESET_CHOICES", "validate_params"]  # re-exported: the API and forms validate through here


def reference_file(value: str) -> str:
    """Absolute path of a reference file; relative paths are taken from ``DATA_DIR``.

    Resolved by ``mofsim_site.files.resolve_data_path``: nothing outside DATA_DIR/WORKDIR can be
    read through a parameter.
    """
    try:
        path = resolve_data_path(value, base=settings.DATA_DIR, roots=(settings.DATA_DIR,))
    except DataPathError as exc:
        raise serializers.ValidationError("must be a file inside the data directory or the work directory") from exc
    if not path.is_file():
        raise serializers.ValidationError(f"no such file: {value}")
    return str(path)


class StructureReference(StrictSerializer):
    """DFT reference of a structure (keys as in ``Structure.reference``)."""

    dft_structure = serializers.CharField(required=False, help_text="DFT-optimised structure file")
    dft_volume = serializers.FloatField(required=False, min_value=1e-3, help_text="Å³")
    dft_b0_gpa = serializers.FloatField(required=False)
    dft_cv300_j_per_g_k = serializers.FloatField(required=False, min_value=0.0)
    mass_amu = serializers.FloatField(required=False, min_value=0.0)

    def validate_dft_structure(self, value):
        if not self.context.get("stored_reference"):
            raise serializers.ValidationError("set from the structure's own DFT reference; it cannot be given")
        return reference_file(value)


class InteractionReference(StrictSerializer):
    """Reference energies (eV) and complex forces (eV/Å) for an interaction-energy task."""

    interaction_energy_ev = serializers.FloatField(required=False)
    e_total_ev = serializers.FloatField(required=False)
    e_host_ev = serializers.FloatField(required=False)
    e_guest_ev = serializers.FloatField(required=False)
    forces_ev_per_a = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3), required=False
    )


def _engine_field():
    return serializers.ChoiceField(
        choices=ENGINES,
        default="batched",
        help_text="batched: many force calls per model pass where the model family allows it — inside "
        "the task, and single points, optimizations, bulk moduli, heat capacities, stability MD and "
        "interaction energies of several tasks sharing passes (else the ASE path, recorded in the "
        "result); ase: the reference one-at-a-time path, never grouped",
    )


class TaskParams(ParamsSerializer):
    d3 = serializers.BooleanField(
        default=False, help_text="add D3(BJ) dispersion (torch-dftd, PBE, 40 Bohr cutoff) to the model"
    )


def _reference_field():
    return StructureReference(required=False, allow_null=True, default=None)


class SinglePointParams(TaskParams):
    compute_stress = serializers.BooleanField(default=True)
    engine = _engine_field()


class OptimizationParams(TaskParams):
    PRESETS = {"protocol": {}, "quick": {"fmax": 0.05, "steps": 100}}

    optimizer = serializers.ChoiceField(choices=sorted(OPTIMIZERS), default="LBFGS")
    cell_filter = serializers.ChoiceField(
        choices=sorted(FILTERS),
        default="FrechetCellFilter",
        allow_null=True,
        help_text="null relaxes positions only (fixed cell)",
    )
    fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0, help_text="eV/Å")
    steps = serializers.IntegerField(default=5000, min_value=1, max_value=100_000)
    engine = _engine_field()
    reference = _reference_field()


class StabilityParams(TaskParams):
    PRESETS = {
        "protocol": {},
        "quick": {"opt_fmax": 0.05, "opt_steps": 20, "nvt_steps": 20, "npt_steps": 50, "trajectory_interval": 10},
    }

    variant = serializers.ChoiceField(choices=VARIANTS, default="ambient")
    opt_fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0, help_text="eV/Å, fixed cell")
    opt_steps = serializers.IntegerField(default=1000, min_value=0, max_value=100_000)
    nvt_steps = serializers.IntegerField(default=1000, min_value=0, max_value=10_000_000)
    npt_steps = serializers.IntegerField(
        default=None,
        allow_null=True,
        min_value=0,
        max_value=10_000_000,
        help_text="steps per NPT stage; null = protocol (ambient 50 000, ramp 20 000, copper 10 000)",
    )
    timestep_fs = serializers.FloatField(default=1.0, min_value=0.01, max_value=5.0)
    temperature_k = serializers.FloatField(default=300.0, min_value=1.0, max_value=5000.0)
    friction_per_fs = serializers.FloatField(
        default=None, allow_null=True, min_value=1e-5, max_value=1.0, help_text="null = 0.01 (ramp: 0.002)"
    )
    tdamp_fs = serializers.FloatField(default=100.0, min_value=1.0, max_value=1e5)
    pdamp_fs = serializers.FloatField(default=1000.0, min_value=1.0, max_value=1e6)
    pressure_bar = serializers.FloatField(default=1.0, min_value=-1e5, max_value=1e6)
    velocity_seed = serializers.IntegerField(default=0, min_value=0)
    langevin_seed = serializers.IntegerField(
        default=None,
        allow_null=True,
        min_value=0,
        help_text="seed of the Langevin (NVT) noise; null = unseeded, as in the benchmark (not reproducible)",
    )
    trajectory_interval = serializers.IntegerField(default=100, min_value=1, max_value=100_000)
    ramp_temperatures_k = serializers.ListField(
        child=serializers.FloatField(min_value=1.0, max_value=5000.0),
        default=[300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0],
        min_length=1,
        max_length=50,
    )
    copper_high_temperature_k = serializers.FloatField(default=400.0, min_value=1.0, max_value=5000.0)
    coordination = serializers.BooleanField(default=True, help_text="metal coordination (CrystalNN) metrics")
    max_volume_change_pct = serializers.FloatField(
        default=10.0, min_value=0.0, max_value=1000.0,
        help_text="stable = |V_final/V_0 - 1| within this (mofsim's criterion, see docs/validation.md)",
    )  # fmt: skip
    max_coordination_change = serializers.FloatField(
        default=None, allow_null=True, min_value=0.0, max_value=20.0,
        help_text="optional: also require every metal's mean weighted CN to change by at most this",
    )  # fmt: skip
    engine = _engine_field()


class BulkModulusParams(TaskParams):
    PRESETS = {
        "protocol": {},
        "quick": {"relax_fmax": 0.02, "relax_steps": 100, "npoints": 7, "point_fmax": 0.02, "point_steps": 30},
    }

    relax_fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0)
    relax_steps = serializers.IntegerField(default=1000, min_value=0, max_value=100_000)
    npoints = serializers.IntegerField(default=11, min_value=5, max_value=51)
    eps = serializers.FloatField(default=0.04, min_value=0.001, max_value=0.3, help_text="volumes (1 ± eps)·V0")
    point_fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0)
    point_steps = serializers.IntegerField(default=1000, min_value=0, max_value=100_000)
    engine = _engine_field()
    reference = _reference_field()


class HeatCapacityParams(TaskParams):
    PRESETS = {"protocol": {}, "quick": {"relax_fmax": 0.02, "relax_steps": 100}}

    relax_fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0)
    relax_steps = serializers.IntegerField(default=1000, min_value=0, max_value=100_000)
    supercell = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=6), default=[1, 1, 1], min_length=3, max_length=3
    )
    displacement_a = serializers.FloatField(default=0.01, min_value=1e-4, max_value=0.1)
    mesh_length = serializers.FloatField(default=100.0, min_value=1.0, max_value=1000.0, help_text="Å")
    imaginary_threshold_thz = serializers.FloatField(default=0.1, min_value=0.0, max_value=10.0)
    engine = _engine_field()
    reference = _reference_field()


class InteractionEnergyParams(TaskParams):
    mode = serializers.ChoiceField(choices=("place_guest", "complex"), default="place_guest")
    guest = serializers.ChoiceField(choices=GUESTS, required=False, allow_null=True, default=None)
    guest_position = serializers.ListField(
        child=serializers.FloatField(), min_length=3, max_length=3, required=False, allow_null=True, default=None
    )
    guest_rotation_deg = serializers.ListField(
        child=serializers.FloatField(min_value=-360.0, max_value=360.0), min_length=3, max_length=3, default=[0, 0, 0]
    )
    guest_indices = serializers.ListField(
        child=serializers.IntegerField(min_value=0), required=False, allow_null=True, default=None, max_length=1000
    )
    reference = InteractionReference(required=False, allow_null=True, default=None)
    engine = _engine_field()

    def validate(self, attrs):
        if attrs["mode"] == "place_guest":
            errors = {}
            if not attrs.get("guest"):
                errors["guest"] = ["required when mode is place_guest"]
            if attrs.get("guest_position") is None:
                errors["guest_position"] = ["required when mode is place_guest ([x, y, z] in Å)"]
            if attrs.get("guest_indices"):
                errors["guest_indices"] = ["only for mode complex"]
            if errors:
                raise serializers.ValidationError(errors)
        elif attrs.get("guest_position") is not None:
            raise serializers.ValidationError({"guest_position": ["only for mode place_guest"]})
        if attrs.get("guest_indices") and len(set(attrs["guest_indices"])) != len(attrs["guest_indices"]):
            raise serializers.ValidationError({"guest_indices": ["indices must be distinct"]})
        return attrs


def run_params(kind: str, params: dict, structure_reference: dict | None) -> dict:
    """Parameters handed to the executor: ``params`` plus the structure's DFT reference.

    Only kinds whose ``reference`` is a ``StructureReference`` get one, and only when the task's
    own params did not set it. The stored reference passes the same validation as user input.
    """
    fields = executors.get(kind).load_params()().fields
    if not isinstance(fields.get("reference"), StructureReference) or params.get("reference"):
        return params
    known = {k: v for k, v in (structure_reference or {}).items() if k in StructureReference().fields}
    if not known:
        return params
    ref = StructureReference(data=known, context={"stored_reference": True})
    ref.is_valid(raise_exception=True)
    return {**params, "reference": plain(ref.validated_data)}
