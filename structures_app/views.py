"""Structure pages: list (search and filters, htmx), detail (space group, density, 3D view,
DFT reference in words, every result on it), downloads (CIF, extXYZ), upload (errors in the form, 400)."""

import io

from ase.io import write
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mofsim_site.files import UploadTooLarge
from mofsim_site.htmx import is_partial
from structures_app.api.views import visible_structures
from structures_app.describe import crystal_summary, reference_in_words, viewer_data
from structures_app.forms import StructureUploadForm
from structures_app.models import Structure, StructureSet
from structures_app.parsers import StructureError
from structures_app.services import store_uploaded_file


def _int(value) -> int | None:
    return int(value) if value.isdigit() else None


@login_required
def structure_list(request):
    """Search (name or formula), set, source and atom-count filters; the table alone for htmx."""
    qs = visible_structures(request.user).prefetch_related("sets").order_by("name", "id")
    f = {k: request.GET.get(k, "").strip() for k in ("q", "set", "source", "min_atoms", "max_atoms")}
    if f["q"]:
        qs = qs.filter(Q(name__icontains=f["q"]) | Q(formula__icontains=f["q"]))
    if f["set"]:
        qs = qs.filter(sets__slug=f["set"])
    if f["source"] in Structure.Source.values:
        qs = qs.filter(source=f["source"])
    if _int(f["min_atoms"]) is not None:
        qs = qs.filter(n_atoms__gte=_int(f["min_atoms"]))
    if _int(f["max_atoms"]) is not None:
        qs = qs.filter(n_atoms__lte=_int(f["max_atoms"]))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"page": page, "f": f, "sets": StructureSet.objects.order_by("slug"), "sources": Structure.Source.choices}
    template = (
        "structures_app/partials/_structure_table.html" if is_partial(request) else "structures_app/structure_list.html"
    )
    return render(request, template, context)


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
    structure = get_object_or_404(visible_structures(request.user).prefetch_related("sets"), pk=pk)
    tasks = (
        structure.tasks.visible_to(request.user).select_related("model").order_by("kind", "model__name", "-created_at")
    )
    atoms = structure.read_atoms()
    context = {
        "structure": structure,
        "tasks": tasks[:200],
        "crystal": crystal_summary(atoms),
        "reference_words": reference_in_words(structure.reference),
        "viewer": viewer_data(atoms),
    }
    return render(request, "structures_app/structure_detail.html", context)


DOWNLOADS = {"cif": ("cif", "chemical/x-cif"), "extxyz": ("extxyz", "chemical/x-xyz")}


@login_required
def structure_download(request, pk, fmt):
    """The structure as CIF or extXYZ, written from the parsed atoms (not the raw upload)."""
    if fmt not in DOWNLOADS:
        raise Http404(f"unknown format {fmt!r}; choose from {', '.join(DOWNLOADS)}")
    structure = get_object_or_404(visible_structures(request.user), pk=pk)
    buffer = io.BytesIO() if fmt == "cif" else io.StringIO()
    write(buffer, structure.read_atoms(), format=DOWNLOADS[fmt][0])
    body = buffer.getvalue()
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in structure.name) or f"structure-{pk}"
    response = HttpResponse(body, content_type=DOWNLOADS[fmt][1])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
