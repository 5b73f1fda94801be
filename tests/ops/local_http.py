"""A local HTTP server for the runbook tests: the real client libraries talk to it on 127.0.0.1.

Each cloud's fake (tests/ops/azure/arm_fake.py, tests/ops/gcp/gcp_fake.py) routes requests to a handler that
answers with the API's documented JSON; this module only serves them and records every request.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

# (method, path, query, body) -> (status, json body or None, extra headers)
Route = Callable[[str, str, dict[str, list[str]], Optional[dict[str, Any]]], tuple[int, Any, dict[str, str]]]


class LocalApi:
    """Serve `route` on 127.0.0.1 (a free port) until `close()`; `requests` lists (method, path, body)."""

    def __init__(self, route: Route):
        self.route = route
        self.requests: list[tuple[str, str, Optional[dict[str, Any]]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers go out in one write and the body in another: with Nagle's algorithm
            # the body waited for the client's delayed ACK (~40 ms a request, most of a runbook test's time).
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw.strip() else None
                parts = urlsplit(self.path)
                api.requests.append((self.command, parts.path, body))
                status, answer, headers = api.route(self.command, parts.path, parse_qs(parts.query), body)
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():  # "{host}" in a header: this server's own URL
                    self.send_header(name, value.replace("{host}", api.url))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the serve loop to look at its flag, once per poll interval: the default 0.5 s
        # made every test that closes a server half a second longer (a quarter of the runbook tests' wall).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def calls(self, method: str, fragment: str = "") -> list[tuple[str, str, Optional[dict[str, Any]]]]:
        return [call for call in self.requests if call[0] == method and fragment in call[1]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def serving(state: Any):
    """A `LocalApi` answering with `state.route`, reachable as `api.state`, closed afterwards."""
    api = LocalApi(state.route)
    api.state = state
    try:
        yield api
    finally:
        api.close()


def write_outputs(path: Path, outputs: dict[str, Any]) -> Path:
    path.write_text(json.dumps(outputs))
    return path
