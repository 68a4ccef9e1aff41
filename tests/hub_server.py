"""A model hub on 127.0.0.1 for tests: serves files from a directory, counts GETs, can go slow.

Plain Python (no Django), so per-family environments use it too. ``delay_s`` sleeps between
chunks, which keeps a download in flight long enough for concurrent fetchers to overlap.
"""

import contextlib
import functools
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, hub, **kwargs):
        self.hub = hub
        super().__init__(*args, directory=str(hub.root), **kwargs)

    def do_GET(self):  # noqa: N802 - http.server's naming
        with self.hub.lock:
            self.hub.gets.append(self.path)
        super().do_GET()

    def copyfile(self, source, outputfile):
        for chunk in iter(lambda: source.read(4096), b""):
            outputfile.write(chunk)
            time.sleep(self.hub.delay_s)

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass


class Hub:
    def __init__(self, root: Path, delay_s: float = 0.0):
        self.root, self.delay_s = Path(root), delay_s
        self.gets: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, hub=self))

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}"

    def publish(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)


@contextlib.contextmanager
def serving(root: Path, delay_s: float = 0.0):
    hub = Hub(root, delay_s)
    thread = threading.Thread(target=hub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.server.shutdown()
        hub.server.server_close()
