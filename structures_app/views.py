"""Structure pages: list (with built-in sets), detail, upload (errors shown in the form, 400)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from mofsim_site.files import UploadTooLarge
from structures_app.api.views import visible_structures
from structures_app.forms import StructureUploadForm
from structures_app.models import StructureSet
from structures_app.parsers import StructureError
from structures_app.services import store_uploaded_file


@login_required
def structure_list(request):
    qs = visible_structures(request.user).order_by("name", "id")
    set_slug = request.GET.get("set", "")
    if set_slug:
        qs = qs.filter(sets__slug=set_slug)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "structures_app/structure_list.html",
        {
            "page": page,
            "sets": StructureSet.objects.order_by("slug"),
            "set_slug": set_slug,
        },
    )


@login_required
def structure_upload(request):
    form = StructureUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            structure = store_uploaded_file(form.cleaned_data["file"], request.user, form.cleaned_data.get("name"))
        except (StructureError, UploadTooLarge) as exc:
            form.add_error("file", str(exc))
        else:
            messages.success(request, f"Uploaded {structure.name} ({structure.formula}, {structure.n_atoms} atoms).")
            return redirect("structures_app:structure_detail", pk=structure.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "structures_app/structure_upload.html", {"form": form}, status=status)


@login_required
def structure_detail(request, pk):
    structure = get_object_or_404(visible_structures(request.user), pk=pk)
    tasks = structure.tasks.visible_to(request.user).order_by("-created_at")
    return render(request, "structures_app/structure_detail.html", {"structure": structure, "tasks": tasks[:50]})
