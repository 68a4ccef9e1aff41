"""Python client for the mofsim REST API (``/api/v1``), sync and async, on httpx.

    from mofsim_client import Client
    with Client("http://localhost:8000", "alice", "secret") as client:
        structure = client.upload_structure("MOF-5.cif")
        task = client.submit("optimization", structure["id"], model="sevennet-0", preset="quick")
        for line in task.stream_logs():
            print(line["message"])
        print(task.wait().status, task.result()["final_energy_ev"])

Errors raise subclasses of ``MofsimError`` carrying the API's ``code``, ``message``,
``details`` and ``request_id``. The package's major version is the API version (1.x ↔ ``/api/v1``).
"""

from mofsim_client._core import TERMINAL
from mofsim_client._version import API_VERSION, __version__
from mofsim_client.aio import AsyncClient
from mofsim_client.client import Client
from mofsim_client.errors import (
    AuthenticationError,
    Conflict,
    MofsimError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    TaskTimeout,
    ValidationError,
)
from mofsim_client.sse import ServerSentEvent, SSEParser
from mofsim_client.task import AsyncTask, Task

__all__ = [
    "API_VERSION",
    "TERMINAL",
    "AsyncClient",
    "AsyncTask",
    "AuthenticationError",
    "Client",
    "Conflict",
    "MofsimError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "SSEParser",
    "ServerError",
    "ServerSentEvent",
    "Task",
    "TaskTimeout",
    "ValidationError",
    "__version__",
]
