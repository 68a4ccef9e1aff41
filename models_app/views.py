"""Model and training-dataset pages. Uploads reuse the API's storage service (same checks)."""

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from models_app import families
from models_app.datasets import DatasetError
from models_app.datasets.store import store_uploaded
from models_app.models import MLModel, TrainingDataset
from mofsim_site.files import UploadTooLarge


@login_required
def model_list(request):
    return render(request, "models_app/model_list.html", {"models": MLModel.objects.order_by("name")})


VARIANT_KEYS = ("model_name", "version", "calculator", "task_name", "inference_settings", "default_dtype", "dtype")


@login_required
def model_detail(request, name):
    """Family, variant, capabilities, the nodes that can run it now, and its benchmark runs so far
    (rendered by the task core's ``model_benchmarks`` tag: this app sits below it)."""
    model = get_object_or_404(MLModel, name=name)
    family = families.FAMILIES.get(model.family)
    WorkerNode = apps.get_model("nodes_app", "WorkerNode")  # nodes are a layer above models
    nodes = [n for n in WorkerNode.objects.filter(enabled=True).order_by("name") if model.family in (n.families or [])]
    context = {
        "model": model,
        "family": family,
        "variant": {k: model.config[k] for k in VARIANT_KEYS if k in model.config},
        "requirements": f"requirements/models/{model.family}.txt",
        "nodes": nodes,
        "online_nodes": [n for n in nodes if n.is_alive],
    }
    return render(request, "models_app/model_detail.html", context)


class DatasetUploadForm(forms.Form):
    file = forms.FileField(help_text="FASTA, CSV/TSV (ProteinGym DMS columns) or extXYZ with energies and forces")
    name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


@login_required
def dataset_list(request):
    """List the user's datasets; POST uploads one (errors re-render the form with status 400;
    a file over the limit is stopped while streaming and answered 413 by BodyLimitMiddleware)."""
    status = 200
    if request.method == "POST":
        form = DatasetUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                dataset = store_uploaded(
                    form.cleaned_data["file"],
                    request.user,
                    name=form.cleaned_data["name"] or None,
                    description=form.cleaned_data["description"],
                )
            except (DatasetError, UploadTooLarge) as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(
                    request, f"Uploaded {dataset.name}: {dataset.n_records} records, sha256 {dataset.sha256[:12]}…"
                )
                return redirect("models_app:dataset_list")
        status = 400
    else:
        form = DatasetUploadForm()
    datasets = TrainingDataset.objects.visible_to(request.user).select_related("owner").order_by("-created_at")[:200]
    return render(request, "models_app/dataset_list.html", {"form": form, "datasets": datasets}, status=status)
