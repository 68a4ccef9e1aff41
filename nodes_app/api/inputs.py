"""Task inputs for worker nodes on other machines: a structure's extXYZ and a model's file.

The counterpart of tasks_app.inputs. A node token alone opens nothing: a node may fetch an input
only while a task that needs it is ASSIGNED or RUNNING *on that node*; anything else is 404,
the same answer as for an id that does not exist, so a node learns nothing about other work.
Each response carries ``X-Content-SHA256`` so the node can check what it received.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from models_app.models import MLModel
from mofsim_site.files import sha256_file
from nodes_app.authentication import IsNode, NodeTokenAuthentication
from structures_app.models import Structure
from structures_app.services import write_processed
from tasks_app.choices import TaskStatus
from tasks_app.models import Task

logger = logging.getLogger(__name__)

FILE_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="the file; its SHA-256 in the X-Content-SHA256 header"
    ),
    404: OpenApiResponse(description="no task ASSIGNED/RUNNING on this node needs it"),
}


def active_tasks(node):

    return Task.objects.filter(node=node, status__in=[TaskStatus.ASSIGNED, TaskStatus.RUNNING])


def file_response(path: Path) -> FileResponse:
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)  # noqa: SIM115 - closed by Django
    response["X-Content-SHA256"] = sha256_file(path)
    return response


class NodeInput(APIView):
    authentication_classes = [NodeTokenAuthentication]
    permission_classes = [IsNode]


class StructureInput(NodeInput):
    """``GET /api/v1/nodes/inputs/structures/{id}``: the processed extXYZ (written if missing)."""

    @extend_schema(responses=FILE_RESPONSES)
    def get(self, request, pk):

        if not active_tasks(request.auth).filter(structure_id=pk).exists():
            raise NotFound("no such structure among this node's tasks")
        structure = Structure.objects.get(pk=pk)
        path = structure.processed_path
        if not path.exists():
            try:
                path = write_processed(structure.read_atoms(), structure.sha256)
            except OSError as exc:
                logger.error("structure %s: its file is missing on the server (%s)", pk, exc)
                raise NotFound("the structure's file is missing on the server") from exc
        logger.info("node %s fetched structure %s", request.auth.name, pk)
        return file_response(path)


class ModelInput(NodeInput):
    """``GET /api/v1/nodes/inputs/models/{name}``: the file of a model a node's task uses.

    "Uses" includes the base model a ``train_mace`` job fine-tunes (``params.base_model``).
    """

    @extend_schema(responses=FILE_RESPONSES)
    def get(self, request, name):

        model = MLModel.objects.filter(name=name).exclude(model_path="").first()
        uses = Q(model=model) | Q(kind="train_mace", params__base_model=name)
        if model is None or not active_tasks(request.auth).filter(uses).exists():
            raise NotFound("no such model file among this node's tasks")
        path = (settings.WORKDIR / model.model_path).resolve()
        if not path.is_relative_to(settings.WORKDIR) or not path.is_file():
            logger.error("model %s: its file %s is missing on the server", name, model.model_path)
            raise NotFound("the model's file is missing on the server")
        logger.info("node %s fetched model %s", request.auth.name, name)
        return file_response(path)
