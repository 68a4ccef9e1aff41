"""ASGI request-body limit: refuse before Django's ``read_body`` spools the body to disk.

Under daphne, Django's ``ASGIHandler.read_body`` reads the whole body into a temporary file
before any middleware or view runs, so a 60 MB body to a 20 MB endpoint landed on disk in full
before the 400. ``BodyLimit`` wraps the HTTP app: a declared Content-Length over the URL's limit
(``mofsim_site.files.body_limit``) gets a 413 without reading anything; a body without one (or
with a false one) is counted chunk by chunk, and at the limit Django is told the client went
away (it stops reading and answers nothing) and the 413 is sent from here.
"""

import json

from mofsim_site.files import body_limit
from mofsim_site.middleware import request_id_from


async def send_too_large(scope, send, limit: int) -> None:
    path = scope.get("path", "")
    request_id = request_id_from(dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1"))
    message = f"request body is larger than the limit of {limit} bytes for {path}"
    if path.startswith("/api/"):
        body = json.dumps({"code": "too_large", "message": message, "details": {}, "request_id": request_id}).encode()
        content_type = b"application/json"
    else:
        body, content_type = message.encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += [(b"x-request-id", request_id.encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await send_too_large(scope, send, limit)
        state = {"received": 0, "exceeded": False, "started": False}

        async def limited_receive():
            if state["exceeded"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message):
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if state["exceeded"] and not state["started"]:
            await send_too_large(scope, send, limit)
