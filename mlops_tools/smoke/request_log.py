"""The serving request log on the real software: the rendered sink (``request-log`` Deployment) run as its
container runs it, and KServe's logger in front of the real MLServer.

- ``start_sink``: ``python -m pipelines request-log`` (the MLflow venv = the step image's pins) with the
  rendered arguments; only the listen port and host are this run's, and ``--output`` may be pointed at the
  same prefix in an emulator's bucket (the name is the plan's; the emulator's endpoint comes from ``env``).
- ``LoggingAgent``: what KServe v0.20.0's agent does in a predictor pod with ``logger.mode: all``
  (``pkg/logger/handler.go``: forward the request, then queue a request event and, for a 200 only, a response
  event sharing its id; ``pkg/logger/worker.go``: CloudEvents 1.0 in binary mode, ``Content-Type`` the
  request's on both, the extension attributes it sets). The Go agent cannot run here, so this stand-in
  sends exactly those events, from two threads as the agent's worker pool does (either may arrive first).
- ``object_store``: the emulator of the stack's cloud, the bucket/container of the rendered prefix in it,
  the parts listed back, and the URI the drift step reads them with (S3: as rendered, pyarrow honours
  ``AWS_ENDPOINT_URL``; GCS: the same bucket and prefix with pyarrow's ``endpoint_override``; Azure:
  pyarrow's Azure file system cannot be pointed at Azurite with a shared key, so the parts are copied
  to a local folder first, which the report says).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.plan import REPO, Plan
from mlops_tools.smoke.procs import HOST, Proc, Processes, free_port

REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"


def sink_container(plan: Plan) -> dict[str, Any]:
    [deployment] = [d for d in plan.k8s_objects("Deployment") if d["metadata"]["name"] == "request-log"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def rendered_output(plan: Plan) -> str:
    args = sink_container(plan)["args"]
    return args[args.index("--output") + 1]


def start_sink(procs: Processes, plan: Plan, python: Path, env: Mapping[str, str]) -> tuple[Proc, str]:
    """The sink as the rendered container runs it; (process, its URL)."""
    args = list(sink_container(plan)["args"])
    port = free_port()
    args[args.index("--port") + 1] = str(port)
    proc = procs.start("request-log", [str(python), "-m", "pipelines", *args, "--host", HOST],
                       env={**env, "PYTHONPATH": str(REPO)}, cwd=procs.temp_dir("request-log"))
    url = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{url}/healthz", timeout=60, ready=lambda status: status == 200)
    return proc, url


def logger_headers(kind: str, request_id: str, service: str, namespace: str = "serving") -> dict[str, str]:
    """The headers of one event as KServe v0.20.0's worker sends it (binary mode)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"Ce-Specversion": "1.0", "Ce-Id": request_id, "Ce-Type": kind, "Ce-Source": "http://localhost:9081/",
            "Ce-Time": now, "Ce-Recordedtime": now, "Ce-Inferenceservicename": service, "Ce-Namespace": namespace,
            "Ce-Component": "predictor", "Ce-Endpoint": "default", "Ce-Metadata": "{}",
            "Content-Type": "application/json"}


class LoggingAgent:
    """An HTTP proxy to MLServer that logs to the sink as KServe's agent does (module docstring)."""

    def __init__(self, model_port: int, sink_url: str, service: str):
        self.sent: list[tuple[str, int]] = []  # (event type, sink status)
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request_id = self.headers.get("Ce-Id") or str(uuid.uuid4())
                forward = urllib.request.Request(f"http://{HOST}:{model_port}{self.path}", data=body, method="POST",
                                                 headers={"Content-Type": self.headers.get("Content-Type", "")})
                events = [threading.Thread(target=agent._send, args=(REQUEST_TYPE, request_id, body))]
                events[0].start()
                try:
                    with urllib.request.urlopen(forward, timeout=30) as response:
                        status, answer = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, answer = error.code, error.read()
                if status == 200:  # handler.go logs a response only for 200
                    events.append(threading.Thread(target=agent._send, args=(RESPONSE_TYPE, request_id, answer)))
                    events[-1].start()
                for thread in events:
                    thread.join()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args) -> None:
                pass

        self._send_to, self._service = sink_url, service
        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self._server.server_address[1]

    def _send(self, kind: str, request_id: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self._send_to}/", data=body, method="POST",
                                         headers=logger_headers(kind, request_id, self._service))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self.sent.append((kind, response.status))
        except urllib.error.HTTPError as error:
            self.sent.append((kind, error.code))

    def __enter__(self) -> "LoggingAgent":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class LogStore:
    """The rendered prefix in this run's emulator: ``parts()`` lists what the sink wrote; ``drift_uri(dir)``
    is what the drift step's ``--recent`` reads it as here (module docstring)."""

    output: str
    env: Mapping[str, str]
    parts: Callable[[], list[str]]
    drift_uri: Callable[[Path], str]


def object_store(output: str, env: Mapping[str, str], python: Path) -> LogStore:
    """Create the bucket/container of ``output`` in the emulator ``env`` points at (with the MLflow venv's
    cloud clients, the sink's own)."""
    import subprocess

    def client(code: str, *argv: str) -> str:
        result = subprocess.run([str(python), "-c", code, output, *argv], env={**env, "PATH": "/usr/bin:/bin"},
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise SmokeFailure(f"object store emulator ({output}): {result.stderr[-1500:]}")
        return result.stdout
    parts = urlsplit(output)
    prefix = parts.path.lstrip("/")
    if output.startswith("s3://"):
        client("import boto3, sys; boto3.client('s3').create_bucket(Bucket=sys.argv[1].split('/')[2])")
        lister = ("import boto3, sys, json; b, _, p = sys.argv[1][5:].partition('/'); print(json.dumps(["
                  "o['Key'] for o in boto3.client('s3').list_objects_v2(Bucket=b, Prefix=p).get('Contents', [])]))")
        return LogStore(output, env, lambda: json.loads(client(lister)), lambda _: output)
    if output.startswith("gs://"):
        client("import sys; from google.cloud import storage; storage.Client().create_bucket(sys.argv[1].split('/')[2])")
        lister = ("import sys, json; from google.cloud import storage; b, _, p = sys.argv[1][5:].partition('/'); "
                  "print(json.dumps([o.name for o in storage.Client().list_blobs(b, prefix=p)]))")
        endpoint = env["STORAGE_EMULATOR_HOST"].split("//", 1)[1]
        return LogStore(output, env, lambda: json.loads(client(lister)),
                        lambda _: f"gs://anonymous@{parts.netloc}/{prefix}?scheme=http&endpoint_override={endpoint}")
    container = parts.netloc.split("@", 1)[0]
    blob = ("import os, sys, json; from azure.storage.blob import BlobServiceClient; "
            "c = BlobServiceClient.from_connection_string(os.environ['AZURE_STORAGE_CONNECTION_STRING'])"
            f".get_container_client({container!r}); ")
    client(blob + "c.create_container()")
    lister = blob + f"print(json.dumps([b.name for b in c.list_blobs(name_starts_with={prefix!r})]))"
    copier = blob + ("import pathlib; d = pathlib.Path(sys.argv[2]); d.mkdir(parents=True, exist_ok=True); "
                     f"[(d / b.name.rsplit('/', 1)[1]).write_bytes(c.download_blob(b.name).readall()) "
                     f"for b in c.list_blobs(name_starts_with={prefix!r})]")

    def local_copy(directory: Path) -> str:
        client(copier, str(directory))
        return f"{directory}/"
    return LogStore(output, env, lambda: json.loads(client(lister)), local_copy)
