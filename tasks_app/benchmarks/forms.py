"""The "new benchmark run" form: a thin shell over ``services.create_benchmark_run``."""

from django import forms
from rest_framework.exceptions import ParseError, ValidationError

from models_app.models import MLModel
from mofsim_site import executors
from mofsim_site.api.parsers import loads
from structures_app import builtin
from structures_app.models import Structure
from tasks_app.benchmarks.services import (
    benchmark_kinds,
    create_benchmark_run,
    estimate_benchmark_run,
    resolve_set,
    visible_sets,
    visible_structures,
)
from tasks_app.choices import Priority
from tasks_app.params import PRESET_CHOICES
from tasks_app.policy import QuotaExceeded, allowed_priorities, check_quota


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {_first_message(v)}" for k, v in errors.items())
    if isinstance(errors, list):
        return "; ".join(_first_message(e) for e in errors)
    return str(errors)


class BenchmarkForm(forms.Form):
    kind = forms.ChoiceField(label="Task type")
    model = forms.ModelChoiceField(queryset=MLModel.objects.usable(), to_field_name="name")
    structure_set = forms.ChoiceField(required=False, help_text="a MOFSimBench set or one of yours")
    structures = forms.ModelMultipleChoiceField(
        queryset=Structure.objects.none(), required=False, help_text="…or pick structures (leave the set empty)"
    )
    preset = forms.ChoiceField(choices=[(p, p) for p in PRESET_CHOICES], initial="quick")
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    params = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text='JSON overrides, e.g. {"fmax": 0.05}'
    )
    name = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["kind"].choices = [(k, executors.get(k).label) for k in benchmark_kinds()]
        self.fields["priority"].choices = allowed_priorities(user)
        slugs = sorted({*builtin.SETS, *visible_sets(user).values_list("slug", flat=True)})
        self.fields["structure_set"].choices = [("", "—"), *((s, s) for s in slugs)]
        self.fields["structures"].queryset = visible_structures(user).order_by("name", "id")
        self.fields["model"].initial = MLModel.objects.filter(is_default=True).values_list("name", flat=True).first()

    def clean(self):
        data = super().clean()
        if bool(data.get("structure_set")) == bool(data.get("structures")):
            raise forms.ValidationError("Choose a structure set or some structures (not both).")
        try:
            data["params_json"] = loads(data.get("params") or "{}")
        except ParseError as exc:
            self.add_error("params", str(exc.detail))
        return data

    def _plan(self) -> dict:
        data = self.cleaned_data
        structure_set = resolve_set(self.user, data["structure_set"]) if data.get("structure_set") else None
        return {
            "owner": self.user,
            "kind": data["kind"],
            "model": data["model"],
            "structure_set": structure_set,
            "structures": list(data["structures"]) if not structure_set else None,
            "preset": data["preset"],
            "params": data["params_json"],
        }

    def estimate(self):
        """How long the run would take (``tasks_app.eta``), or None with the error on the form."""
        try:
            return estimate_benchmark_run(priority=self.cleaned_data["priority"], **self._plan())
        except ValidationError as exc:
            self._add_service_errors(exc)
            return None

    def submit(self):
        """Create the run, or put the service's error on the form and return None."""
        data = self.cleaned_data
        try:
            plan = self._plan()
            structure_set = plan["structure_set"]
            check_quota(self.user, structure_set.structures.count() if structure_set else len(data["structures"]))
            return create_benchmark_run(**plan, priority=data["priority"], name=data.get("name", ""))
        except QuotaExceeded as exc:
            self.add_error(None, str(exc.detail))
            return None
        except ValidationError as exc:
            self._add_service_errors(exc)
            return None

    def _add_service_errors(self, exc: ValidationError) -> None:
        for field, errors in (exc.detail if isinstance(exc.detail, dict) else {None: exc.detail}).items():
            self.add_error(field if field in self.fields else None, _first_message(errors))
