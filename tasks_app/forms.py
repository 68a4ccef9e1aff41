from django import forms
from django.db.models import Q
from rest_framework.exceptions import ParseError, ValidationError

from models_app.models import MLModel
from mofsim_site import executors
from mofsim_site.api.parsers import loads
from mofsim_site.tags import TagError, parse_tags
from structures_app.models import Structure
from tasks_app import eta
from tasks_app.choices import Priority
from tasks_app.param_docs import explain_errors
from tasks_app.params import PRESET_CHOICES, validate_params
from tasks_app.policy import QuotaExceeded, allowed_priorities, check_quota
from tasks_app.services import enqueue_task


class StructureChoiceField(forms.ModelChoiceField):
    """Options read "name · formula, N atoms · set" so equal names (and sets) can be told apart."""

    def label_from_instance(self, obj):
        sets = ", ".join(s.slug for s in obj.sets.all()) or ("built-in" if obj.owner_id is None else "uploaded")
        return f"{obj.name} · {obj.formula}, {obj.n_atoms} atom{'' if obj.n_atoms == 1 else 's'} · {sets}"


class TaskSubmitForm(forms.Form):
    kind = forms.ChoiceField(label="Task type")
    structure = StructureChoiceField(queryset=Structure.objects.none(), required=False)
    model = forms.ModelChoiceField(queryset=MLModel.objects.usable(), to_field_name="name", required=False)
    preset = forms.ChoiceField(choices=[(p, p) for p in PRESET_CHOICES], initial="quick")
    priority = forms.TypedChoiceField(choices=Priority.choices, coerce=int, initial=Priority.NORMAL)
    params = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="JSON overrides of the preset's values; the table below lists this type's parameters",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["kind"].choices = [(e.kind, e.label) for e in executors.REGISTRY.values()]
        self.fields["priority"].choices = allowed_priorities(user)
        structures = Structure.objects.all()
        if not user.is_staff:
            structures = structures.filter(Q(owner=user) | Q(owner__isnull=True))
        self.fields["structure"].queryset = structures.prefetch_related("sets").order_by("name", "id")
        self.fields["model"].initial = MLModel.objects.filter(is_default=True).values_list("name", flat=True).first()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        entry = executors.get(kind)
        if entry.needs_structure and not data.get("structure"):
            self.add_error("structure", f"{entry.label} needs a structure")
        if entry.needs_model and not data.get("model"):
            self.add_error("model", f"{entry.label} needs a model")
        try:
            overrides = loads(data.get("params") or "{}")
        except ParseError as exc:
            self.add_error("params", str(exc.detail))
            return data
        try:
            check_quota(self.user)
        except QuotaExceeded as exc:
            raise forms.ValidationError(str(exc.detail)) from exc
        try:
            data["validated_params"] = validate_params(kind, overrides, data.get("preset", "protocol"))
        except ValidationError as exc:
            for key, texts in explain_errors(kind, exc.detail).items():
                for text in texts:
                    self.add_error("params", f"{key}: {text}")
        return data

    def estimate(self) -> eta.Estimate:
        """How long the valid form's task would take, and how many tasks are ahead of it."""
        data = self.cleaned_data
        return eta.estimate(kind=data["kind"], model=data.get("model"), structures=[data.get("structure")],
                            params=data["validated_params"], priority=data["priority"])  # fmt: skip

    def submit(self):
        data = self.cleaned_data
        return enqueue_task(
            owner=self.user,
            kind=data["kind"],
            params=data["validated_params"],
            structure=data.get("structure"),
            model=data.get("model"),
            priority=data["priority"],
        )


class NotesForm(forms.Form):
    """The owner's notes and tags on a task or a benchmark run (tags as ``mofsim_site.tags`` says)."""

    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)
    tags = forms.CharField(required=False, max_length=1000, help_text="e.g. mof-5, d3, rerun")

    def clean_tags(self):
        try:
            return parse_tags(self.cleaned_data["tags"])
        except TagError as exc:
            raise forms.ValidationError(str(exc)) from exc
