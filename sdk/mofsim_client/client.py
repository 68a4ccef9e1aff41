"""``Client``: the synchronous client (httpx). ``AsyncClient`` (``mofsim_client.aio``) mirrors it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from mofsim_client import _core
from mofsim_client._core import JSON, TERMINAL, Credentials
from mofsim_client.errors import AuthenticationError, MofsimError, NotFound, TaskTimeout, error_from_response
from mofsim_client.sse import SSEParser
from mofsim_client.task import Task

TaskRef = str | Task | Mapping[str, Any]


class Client:
    """Synchronous client for ``/api/v1``.

    ``Client(url, username, password)`` logs in with JWT and refreshes the access token on a 401
    (keeping the rotated refresh token; logging in again if the refresh token expired too);
    ``Client(url, token=...)`` uses a personal token (``POST /api/v1/auth/token``), which suits
    long-running scripts. ``Client.from_env()`` reads ``MOFSIM_URL`` and ``MOFSIM_TOKEN`` (or
    ``MOFSIM_USERNAME``/``MOFSIM_PASSWORD``). Use it as a context manager to close connections.
    """

    def __init__(
        self,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base = _core.api_base(base_url)
        self.timeout = timeout
        self._creds = Credentials(username, password, token)
        self._http = httpx.Client(
            timeout=timeout, transport=transport, headers={"User-Agent": _core.USER_AGENT}, follow_redirects=False
        )
        if self._creds.uses_jwt:
            self.login()

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        return cls(**{**_core.env_settings(), **kwargs})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------------
    def login(self) -> None:
        self._creds.store(self._request("POST", "/auth/login", auth=False, json=self._creds.login_body()))

    def _refresh_access(self) -> None:
        try:
            body = self._request("POST", "/auth/refresh", auth=False, json={"refresh": self._creds.refresh})
        except AuthenticationError:
            self.login()  # the refresh token expired (or was revoked): log in again
            return
        self._creds.store(body)  # rotated: the refresh token we sent is blacklisted now

    def _send(
        self, method: str, path: str, *, auth: bool = True, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request; on a 401 with JWT, refresh once and retry. Raises the typed error."""
        headers = dict(kwargs.pop("headers", None) or {})
        for attempt in (0, 1):
            if auth:
                headers.update(self._creds.header())
            request = self._http.build_request(method, self.base + path, headers=headers, **kwargs)
            response = self._http.send(request, stream=stream)
            if response.status_code == 401 and auth and attempt == 0 and self._creds.uses_jwt:
                response.close()
                self._refresh_access()
                continue
            break
        if response.status_code >= 400:
            response.read()
            response.close()
            raise error_from_response(response)
        return response

    def _request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        response = self._send(method, path, auth=auth, **kwargs)
        return response.json() if response.content else None

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("GET", path, params=params)

    def _paged(self, path: str, params: Mapping[str, Any] | None = None) -> list[JSON]:
        """Every item of a list endpoint, following its ``next`` links (page numbers or cursors)."""
        out: list[JSON] = []
        query: Mapping[str, Any] | None = dict(params or {})  # None: no filters, still the first page
        while query is not None:
            body = self._get(path, query)
            out.extend(body["results"])
            query = _core.next_query(body)
        return out

    # --- structures ---------------------------------------------------------------------------
    def upload_structure(self, path: str | Path, name: str | None = None, project: str | None = None) -> JSON:
        """Upload a CIF/extXYZ/POSCAR…; the server validates it with ASE. Returns the structure."""
        path = Path(path)
        with open(path, "rb") as fh:
            data = _core.drop_none(name=name, project=project)
            return self._request("POST", "/structures/", files={"file": (path.name, fh)}, data=data)

    def structures(self, structure_set: str | None = None) -> list[JSON]:
        return self._paged("/structures/", {"set": structure_set} if structure_set else {})

    def structure(self, structure_id: int) -> JSON:
        return self._get(f"/structures/{structure_id}/")

    # --- tasks --------------------------------------------------------------------------------
    def task_types(self) -> list[JSON]:
        return self._get("/tasks/types/")

    def submit(
        self,
        kind: str,
        structure: int | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        preset: str = "protocol",
        priority: str = "NORMAL",
        time_limit_s: int | None = None,
    ) -> Task:
        body = _core.submit_body(kind, structure, model, params, preset, priority, time_limit_s)
        return Task(self, self._request("POST", f"/tasks/{kind}", json=body))

    def estimate(
        self,
        kind: str,
        structure: int | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        preset: str = "protocol",
        priority: str = "NORMAL",
    ) -> JSON:
        """How long ``submit()`` with these arguments would take and how many tasks are ahead;
        nothing is submitted. Keys: ``total_s`` (None: no online worker can run it), ``run_s``,
        ``wait_s``, ``tasks_ahead``, ``device``, ``n_samples``, ``source``, ``text``."""
        body = _core.submit_body(kind, structure, model, params, preset, priority, None)
        return self._request("POST", f"/tasks/{kind}/estimate/", json=body)

    def submit_many(self, specs: Iterable[Mapping[str, Any]]) -> list[Task]:
        """Submit several tasks; each spec has ``kind`` plus ``submit()``'s keyword arguments.

        Uses ``POST /api/v1/tasks/batch/`` (``{"tasks": [...]}``, all or nothing) when the server
        has it; an older server answers 404 there, and then the tasks are submitted one by one —
        not atomic: a bad spec raises after the earlier ones were queued.
        """
        items = [_core.batch_item(spec) for spec in specs]
        try:
            body = self._request("POST", "/tasks/batch/", json={"tasks": [{"kind": k, **b} for k, b in items]})
        except NotFound:
            return [Task(self, self._request("POST", f"/tasks/{kind}", json=b)) for kind, b in items]
        return [Task(self, data) for data in (body["tasks"] if isinstance(body, dict) else body)]

    def task(self, task: TaskRef) -> Task:
        return Task(self, self._get(f"/tasks/{_core.task_id_of(task)}/"))

    def tasks(self, status: str | None = None, kind: str | None = None) -> list[Task]:
        return [Task(self, t) for t in self._paged("/tasks/", _core.drop_none(status=status, kind=kind))]

    def wait(
        self,
        task: TaskRef,
        timeout: float = 3600,
        poll: float = 1.0,
        max_poll: float = 10.0,
        on_progress: Callable[[Task], None] | None = None,
    ) -> Task:
        """Poll until the task is terminal; ``TaskTimeout`` (a ``TimeoutError``) after ``timeout`` s."""
        task_id = _core.task_id_of(task)
        deadline = time.monotonic() + timeout
        for delay in _core.backoff(poll, max(poll, max_poll)):
            current = self.task(task_id)
            if isinstance(task, Task):
                task.data = current.data
            if on_progress is not None:
                on_progress(current)
            if current.done:
                return task if isinstance(task, Task) else current
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TaskTimeout(0, "timeout", f"task {task_id} still {current.status} after {timeout} s")
            time.sleep(min(delay, remaining))
        raise AssertionError("unreachable")

    def result(self, task: TaskRef) -> JSON:
        return self._get(f"/tasks/{_core.task_id_of(task)}/result/")["result"]

    def cancel(self, task: TaskRef) -> Task:
        return Task(self, self._request("POST", f"/tasks/{_core.task_id_of(task)}/cancel/"))

    def rerun(self, task: TaskRef) -> Task:
        """A new task with the same type, inputs, parameters and priority."""
        return Task(self, self._request("POST", f"/tasks/{_core.task_id_of(task)}/rerun/"))

    def logs(self, task: TaskRef, level: str | None = None, after: int | None = None) -> list[JSON]:
        return self._paged(f"/tasks/{_core.task_id_of(task)}/logs/", _core.drop_none(level=level, after=after))

    def stream_logs(self, task: TaskRef, after: int | None = None, poll: float = 1.0) -> Iterator[JSON]:
        """Yield the task's log lines (dicts as ``logs()`` returns) as they are written; stop when it ends.

        Reads the server-sent events stream ``GET /tasks/{id}/logs/stream`` (``event: log`` per
        line, ``id:`` = line id, a final ``event: status``) and reconnects after a dropped
        connection with ``Last-Event-ID``, so no line is lost or repeated. ``after`` starts after
        that line id. A server without the stream (older than it) answers 404 there: then this
        polls ``GET /tasks/{id}/logs/?after=<last id>`` (``poll`` s, growing to 10 s while
        nothing arrives) until the task is terminal.
        """
        task_id = _core.task_id_of(task)
        last = after
        failures = 0
        while True:
            headers = {"Accept": "text/event-stream"}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            try:
                response = self._send(
                    "GET", f"/tasks/{task_id}/logs/stream", stream=True, headers=headers,
                    timeout=httpx.Timeout(self.timeout, read=max(self.timeout, 90.0)),
                )  # fmt: skip
            except MofsimError as exc:
                if exc.status not in _core.STREAM_ABSENT:
                    raise
                self.task(task_id)  # a missing task raises NotFound here; else the stream is absent
                yield from self._poll_logs(task_id, last, poll)
                return
            parser = SSEParser()
            try:
                for line in response.iter_lines():
                    event = parser.feed(line)
                    if event is None:
                        continue
                    if event.event == "status":
                        return
                    if event.event == "log":
                        data = _core.log_line(event)
                        last = data.get("id", last)
                        failures = 0
                        yield data
            except (httpx.TransportError, httpx.StreamError):
                pass  # dropped: reconnect below with Last-Event-ID
            finally:
                response.close()
            failures += 1
            if failures > 5:
                raise MofsimError(0, "stream_failed", f"log stream of task {task_id} keeps dropping")
            time.sleep(min(0.5 * failures, 5.0))

    def _poll_logs(self, task_id: str, after: int | None, poll: float) -> Iterator[JSON]:
        delays = _core.backoff(poll, max(poll, 10.0))
        while True:
            finished = self.task(task_id).status in TERMINAL  # read before the lines: none missed
            lines = self.logs(task_id, after=after)
            for line in lines:
                after = line["id"]
                yield line
            if finished:
                return
            if lines:
                delays = _core.backoff(poll, max(poll, 10.0))
            time.sleep(next(delays))

    def artifacts(self, task: TaskRef) -> list[JSON]:
        return self._get(f"/tasks/{_core.task_id_of(task)}/artifacts/")

    def download(self, task: TaskRef, name: str, dest: str | Path = ".") -> Path:
        """Stream one artifact to ``dest`` (a directory or a file path); returns the path."""
        return self._download(f"/tasks/{_core.task_id_of(task)}/artifacts/{name}", name, dest)

    def _download(self, path: str, name: str, dest: str | Path) -> Path:
        target = Path(dest)
        if target.is_dir():
            target = target / name
        partial = target.with_name(target.name + ".part")
        response = self._send("GET", path, stream=True)
        try:
            with open(partial, "wb") as fh:
                for chunk in response.iter_bytes(1024 * 1024):
                    fh.write(chunk)
        finally:
            response.close()
        partial.replace(target)  # never leave a truncated file under the final name
        return target

    # --- benchmarks ---------------------------------------------------------------------------
    def create_benchmark(
        self,
        kind: str,
        *,
        structure_set: str | None = None,
        structures: list[int] | None = None,
        model: str | None = None,
        preset: str = "protocol",
        params: Mapping[str, Any] | None = None,
        priority: str = "NORMAL",
        name: str = "",
        time_limit_s: int | None = None,
    ) -> JSON:
        """One task per structure of a set (or of ``structures``); returns the run's report."""
        body = _core.drop_none(
            kind=kind, structure_set=structure_set, structures=structures, model=model, preset=preset,
            params=dict(params or {}), priority=priority, name=name, time_limit_s=time_limit_s,
        )  # fmt: skip
        return self._request("POST", "/benchmarks/", json=body)

    def estimate_benchmark(
        self,
        kind: str,
        *,
        structure_set: str | None = None,
        structures: list[int] | None = None,
        model: str | None = None,
        preset: str = "protocol",
        params: Mapping[str, Any] | None = None,
        priority: str = "NORMAL",
    ) -> JSON:
        """``create_benchmark()``'s estimate (same keys as ``estimate()``, plus ``n_tasks``); nothing is created."""
        body = _core.drop_none(
            kind=kind, structure_set=structure_set, structures=structures, model=model, preset=preset,
            params=dict(params or {}), priority=priority,
        )  # fmt: skip
        return self._request("POST", "/benchmarks/estimate/", json=body)

    def benchmarks(self, kind: str | None = None, tag: str | None = None) -> list[JSON]:
        """Your runs (staff: all), optionally of one task type and/or carrying one tag."""
        return self._paged("/benchmarks/", _core.drop_none(kind=kind, tag=tag))

    def annotate_benchmark(self, run_id: str, notes: str | None = None, tags: list[str] | None = None) -> JSON:
        """Set a run's notes and/or tags (the rest of the run cannot change); returns its report."""
        return self._request("PATCH", f"/benchmarks/{run_id}/", json=_core.drop_none(notes=notes, tags=tags))

    def benchmark(self, run_id: str) -> JSON:
        """The run, its summary against DFT and one row per structure."""
        return self._get(f"/benchmarks/{run_id}/")

    def benchmark_report(self, run_id: str, format: str = "json") -> JSON | str:
        """``format="json"``: the report dict; ``"csv"``: the CSV text."""
        if format not in ("json", "csv"):
            raise ValueError("format must be 'json' or 'csv'")
        response = self._send("GET", f"/benchmarks/{run_id}/report.{format}")
        return response.json() if format == "json" else response.text

    def compare_benchmarks(self, run_ids: Iterable[str]) -> JSON:
        return self._get("/benchmarks/compare", {"runs": ",".join(run_ids)})

    def wait_benchmark(self, run_id: str, timeout: float = 3600, poll: float = 2.0) -> JSON:
        """Poll until every task of the run is terminal; returns the final report."""
        deadline = time.monotonic() + timeout
        for delay in _core.backoff(poll, max(poll, 15.0)):
            report = self.benchmark(run_id)
            if report["summary"].get("all_finished"):
                return report
            if time.monotonic() + delay > deadline:
                raise TaskTimeout(0, "timeout", f"benchmark {run_id} not finished after {timeout} s")
            time.sleep(delay)
        raise AssertionError("unreachable")

    # --- training data and jobs ---------------------------------------------------------------
    def upload_dataset(
        self, path: str | Path, name: str | None = None, project: str | None = None, description: str | None = None
    ) -> JSON:
        path = Path(path)
        with open(path, "rb") as fh:
            data = _core.drop_none(name=name, project=project, description=description)
            return self._request("POST", "/datasets/", files={"file": (path.name, fh)}, data=data)

    def datasets(self, kind: str | None = None) -> list[JSON]:
        return self._paged("/datasets/", _core.drop_none(kind=kind))

    def dataset(self, dataset_id: str) -> JSON:
        return self._get(f"/datasets/{dataset_id}/")

    def submit_job(
        self,
        kind: str = "train_dms",
        *,
        dataset: str | None = None,
        data_path: str | None = None,
        epochs: int | None = None,
        lr: float | None = None,
        params: Mapping[str, Any] | None = None,
        preset: str = "protocol",
        priority: str = "NORMAL",
        **extra: Any,
    ) -> Task:
        """A training job (``train_dms`` / ``train_mace``); ``extra``: wild_type, plan, notes, time_limit_s."""
        body = _core.drop_none(
            kind=kind, dataset=dataset, data_path=data_path, epochs=epochs, lr=lr,
            params=dict(params) if params else None, preset=preset, priority=priority, **extra,
        )  # fmt: skip
        return Task(self, self._request("POST", "/jobs", json=body))

    def jobs(self) -> list[Task]:
        return [Task(self, t) for t in self._paged("/jobs")]
