"""One ``UploadTooLarge`` (mofsim_site.files): structures and datasets raise it, their views map it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

import models_app.datasets.store as dataset_store
import structures_app.services as structure_services
from mofsim_site.files import UploadTooLarge

pytestmark = pytest.mark.django_db


def test_it_has_no_second_class_of_that_name():
    assert not hasattr(structure_services, "UploadTooLarge") or structure_services.UploadTooLarge is UploadTooLarge
    assert not hasattr(dataset_store, "UploadTooLarge") or dataset_store.UploadTooLarge is UploadTooLarge


@override_settings(STRUCTURE_UPLOAD_MAX_BYTES=10)
def test_it_is_what_a_structure_over_the_limit_raises(owner, cu_cif):
    uploaded = SimpleUploadedFile("Cu.cif", cu_cif.read_bytes())
    with pytest.raises(UploadTooLarge, match="limit of 10 bytes"):
        structure_services.store_uploaded_file(uploaded, owner)
    with pytest.raises(UploadTooLarge, match="limit of 10 bytes"):
        structure_services.store_path(cu_cif, owner=owner, project="owner")


@override_settings(DATASET_UPLOAD_MAX_BYTES=10)
def test_it_is_what_a_dataset_over_the_limit_raises(owner, tmp_path):
    content = b">wt\nMKTAYIAKQRQISFVKSHFSRQ\n"
    with pytest.raises(UploadTooLarge, match="limit of 10 bytes"):
        dataset_store.store_uploaded(SimpleUploadedFile("wt.fasta", content), owner)
    path = tmp_path / "wt.fasta"
    path.write_bytes(content)
    with pytest.raises(UploadTooLarge, match="limit of 10 bytes"):
        dataset_store.store_path(path, owner)
