"""OpenAPI description of the SSE log stream (a plain async Django view, which drf-spectacular
cannot introspect): added to the schema by a postprocessing hook named in SPECTACULAR_SETTINGS."""

PATH = "/api/v1/tasks/{id}/logs/stream/"

OPERATION = {
    "operationId": "tasks_logs_stream",
    "tags": ["tasks"],
    "summary": "The task's log as server-sent events",
    "description": (
        "Each log line is an event with `id:` = line id, `event: log` and the line as JSON in `data:`; "
        "a final `event: status` (data: task_id, status, error) is sent once the task is terminal, then the "
        "stream ends. Resume with the `Last-Event-ID` header or `?after=<line id>`."
    ),
    "parameters": [
        {"in": "path", "name": "id", "required": True, "schema": {"type": "string", "format": "uuid"}},
        {
            "in": "query",
            "name": "after",
            "required": False,
            "schema": {"type": "integer"},
            "description": "stream only lines with a larger id",
        },
        {
            "in": "header",
            "name": "Last-Event-ID",
            "required": False,
            "schema": {"type": "integer"},
            "description": "as `after`; sent by EventSource on reconnect",
        },
    ],  # fmt: skip
    "security": [{"jwtAuth": []}, {"tokenAuth": []}, {"cookieAuth": []}],
    "responses": {
        "200": {"description": "event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    },
}
ERRORS = {
    "400": "bad Last-Event-ID / after",
    "401": "not authenticated",
    "403": "not allowed",
    "404": "no such task, or not yours",
    "429": "throttled",
}


def add_stream_path(result, generator, request, public):
    """Add the operation, with the API's one error shape (the ``Error`` component) for each error status."""
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    operation = {**OPERATION, "responses": {**OPERATION["responses"]}}
    for status, description in ERRORS.items():
        operation["responses"][status] = {"description": description, "content": error_body}
    result.setdefault("paths", {})[PATH] = {"get": operation}
    return result
