"""HTTP client for the mofsim API (requests-based, no Django)."""

import time
from pathlib import Path

import requests

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}


class MofsimError(Exception):
    def __init__(self, status: int, code: str, message: str, request_id: str | None, details=None):
        self.status, self.code, self.request_id, self.details = status, code, request_id, details or {}
        super().__init__(f"HTTP {status} {code}: {message} (request {request_id})")


class Client:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 60.0):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.timeout = timeout
        self.session = requests.Session()
        self._username, self._password = username, password
        self._access = self._refresh = None
        self.login()

    # --- auth ---------------------------------------------------------------------------------
    def login(self) -> None:
        body = self._request(
            "POST", "/auth/login", auth=False, json={"username": self._username, "password": self._password}
        )
        self._access, self._refresh = body["access"], body["refresh"]

    def _refresh_access(self) -> None:
        try:
            body = self._request("POST", "/auth/refresh", auth=False, json={"refresh": self._refresh})
        except MofsimError:
            self.login()  # the refresh token expired too
            return
        self._access = body["access"]
        self._refresh = body.get("refresh", self._refresh)  # rotated: the old one is blacklisted now

    def _request(self, method: str, path: str, auth: bool = True, raw: bool = False, **kwargs):
        for attempt in (0, 1):
            headers = kwargs.pop("headers", {})
            if auth:
                headers["Authorization"] = f"Bearer {self._access}"
            response = self.session.request(method, self.base + path, headers=headers, timeout=self.timeout, **kwargs)
            if response.status_code == 401 and auth and attempt == 0:
                self._refresh_access()
                continue
            break
        if response.status_code >= 400:
            try:
                err = response.json()
            except ValueError:
                err = {"code": "error", "message": response.text[:200]}
            raise MofsimError(
                response.status_code,
                err.get("code", "error"),
                err.get("message", ""),
                err.get("request_id"),
                err.get("details"),
            )
        return response if raw else response.json()

    # --- structures ---------------------------------------------------------------------------
    def upload_structure(self, path, name: str | None = None) -> dict:
        path = Path(path)
        with open(path, "rb") as fh:
            data = {"name": name} if name else {}
            return self._request("POST", "/structures/", files={"file": (path.name, fh)}, data=data)

    def structures(self, structure_set: str | None = None) -> list[dict]:
        return self._paged("/structures/", {"set": structure_set} if structure_set else {})

    # --- tasks --------------------------------------------------------------------------------
    def task_types(self) -> list[dict]:
        return self._request("GET", "/tasks/types/")

    def submit(
        self,
        kind: str,
        structure: int | None = None,
        model: str | None = None,
        params: dict | None = None,
        preset: str = "protocol",
        priority: str = "NORMAL",
    ) -> dict:
        body = {"params": params or {}, "preset": preset, "priority": priority}
        if structure is not None:
            body["structure"] = structure
        if model is not None:
            body["model"] = model
        return self._request("POST", f"/tasks/{kind}", json=body)

    def task(self, task_id: str) -> dict:
        return self._request("GET", f"/tasks/{task_id}/")

    def tasks(self, status: str | None = None) -> list[dict]:
        return self._paged("/tasks/", {"status": status} if status else {})

    def wait(self, task_id: str, timeout: float = 3600, poll: float = 2.0, on_progress=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(task_id)
            if on_progress is not None:
                on_progress(task)
            if task["status"] in TERMINAL:
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout} s")
            time.sleep(poll)

    def result(self, task_id: str) -> dict:
        return self._request("GET", f"/tasks/{task_id}/result/")["result"]

    def cancel(self, task_id: str) -> dict:
        return self._request("POST", f"/tasks/{task_id}/cancel/")

    def rerun(self, task_id: str) -> dict:
        """A new task with the same type, inputs, parameters and priority."""
        return self._request("POST", f"/tasks/{task_id}/rerun/")

    def logs(self, task_id: str, level: str | None = None) -> list[dict]:
        return self._paged(f"/tasks/{task_id}/logs/", {"level": level} if level else {})

    def artifacts(self, task_id: str) -> list[dict]:
        return self._request("GET", f"/tasks/{task_id}/artifacts/")

    def download(self, task_id: str, name: str, dest) -> Path:
        dest = Path(dest)
        if dest.is_dir():
            dest = dest / name
        response = self._request("GET", f"/tasks/{task_id}/artifacts/{name}", raw=True, stream=True)
        with open(dest, "wb") as fh:
            for chunk in response.iter_content(1024 * 1024):
                fh.write(chunk)
        return dest

    def _paged(self, path: str, params: dict) -> list[dict]:
        out, page = [], 1
        while True:
            body = self._request("GET", path, params={**params, "page": page})
            out.extend(body["results"])
            if not body.get("next"):
                return out
            page += 1
