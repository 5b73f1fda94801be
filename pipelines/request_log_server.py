"""``python -m pipelines request-log``: the HTTP sink KServe's logger posts to, and the part writer.

Why a sink of our own and not a kept tool: KServe v0.20.0's logger can write to object storage itself
(``logger.storage``), but it writes each request and each response as its own record of the raw body
(base64, ``pkg/logger/marshaller_record.go``; one object per batch named after its first request id,
``pkg/logger/store.go``) and its validation requires a storage key Secret (``validateLogger``), i.e. a
static credential; general log shippers (Vector, Fluent Bit) neither pair the two events nor decode the
V2 tensors into columns. The drift job needs feature columns, so the sink is these few hundred lines in
the step image, with the pod's workload identity (no key).

Objects are written create-only under the ``--output`` prefix (``part-<UTC time>-<random>.parquet``):

- ``s3://bucket/prefix/``: ``PutObject`` (boto3; the bucket's default SSE-KMS applies);
- ``gs://bucket/prefix/``: an upload with ``ifGenerationMatch=0`` (``storage.objects.create`` only);
- ``abfs://container@account.dfs.core.windows.net/prefix/``: Put Blob on the account's blob endpoint with
  ``DefaultAzureCredential`` (workload identity), never overwriting;
- an absolute local directory (tests).

The clients honour their emulator settings (``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``,
``AZURE_STORAGE_CONNECTION_STRING``), which the smoke run sets and the cluster never does.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from pipelines import StepError
from pipelines.request_log import BadEvent, RequestLog, parse_event

SCHEMES = ("s3://", "gs://", "abfs://", "/")


def part_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"part-{stamp}-{secrets.token_hex(4)}.parquet"


def store_for(output: str) -> Callable[[bytes], str]:
    """A function writing one part under ``output`` (a prefix) and returning the object's URI."""
    if not output.startswith(SCHEMES) or not output.endswith("/"):
        raise StepError(f"request-log: --output {output!r} must be a prefix ending in '/' under s3://, gs://, "
                        f"abfs:// or an absolute directory")
    if output.startswith("/"):
        def local(data: bytes) -> str:
            target = Path(output) / part_name()
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.rename(target)  # a reader never sees half a part
            return str(target)
        return local
    parts = urlsplit(output)
    key_prefix = parts.path.lstrip("/")
    if output.startswith("s3://"):
        import boto3

        client = boto3.client("s3")

        def s3(data: bytes) -> str:
            key = key_prefix + part_name()
            client.put_object(Bucket=parts.netloc, Key=key, Body=data, ContentType="application/vnd.apache.parquet")
            return f"s3://{parts.netloc}/{key}"
        return s3
    if output.startswith("gs://"):
        from google.cloud import storage

        bucket = storage.Client().bucket(parts.netloc)

        def gcs(data: bytes) -> str:
            key = key_prefix + part_name()
            bucket.blob(key).upload_from_string(data, content_type="application/vnd.apache.parquet",
                                                if_generation_match=0)
            return f"gs://{parts.netloc}/{key}"
        return gcs
    container, _, host = parts.netloc.partition("@")
    account = host.split(".", 1)[0]
    if not container or not account:
        raise StepError(f"request-log: --output {output!r} must be abfs://<container>@<account>.dfs.core.windows.net/...")
    from azure.storage.blob import BlobServiceClient

    connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection:  # an emulator (make smoke); the cluster pod has no such variable
        service = BlobServiceClient.from_connection_string(connection)
    else:
        from azure.identity import DefaultAzureCredential

        service = BlobServiceClient(f"https://{account}.blob.core.windows.net", credential=DefaultAzureCredential())
    blobs = service.get_container_client(container)

    def azure(data: bytes) -> str:
        key = key_prefix + part_name()
        blobs.upload_blob(key, data, overwrite=False)
        return f"abfs://{container}@{host}/{key}"
    return azure


def handler_for(log: RequestLog, max_body: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the logger's CloudEvents client expects

        def _answer(self, status: int, text: str = "") -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # readiness / liveness
            if self.path == "/healthz":
                self._answer(200, "ok")
            elif self.path == "/stats":
                self._answer(200, json.dumps(log.counters.__dict__, sort_keys=True))
            else:
                self._answer(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_body:
                self.close_connection = True
                self._answer(413, f"event body over {max_body} bytes")
                return
            body = self.rfile.read(length)
            try:
                log.add(parse_event({k.lower(): v for k, v in self.headers.items()}, body))
            except BadEvent as error:
                self._answer(400, str(error))
                return
            self._answer(200)  # the logger's client treats anything but 200 as an error

        def log_message(self, format: str, *args) -> None:  # one line per request is too much at serving rates
            pass

    return Handler


def serve(output: str, entity: str, port: int, host: str = "0.0.0.0", flush_rows: int = 5000,
          flush_seconds: float = 300.0, max_pending: int = 2000, pair_seconds: float = 60.0,
          max_body: int = 1 << 20) -> dict:
    """Serve until SIGTERM/SIGINT, then settle what is pending, write the last part and return the counters."""
    for name, value in (("--flush-rows", flush_rows), ("--max-pending", max_pending), ("--max-body", max_body)):
        if value < 1:
            raise StepError(f"request-log: {name} {value} must be at least 1")
    for name, seconds in (("--flush-seconds", flush_seconds), ("--pair-seconds", pair_seconds)):
        if not seconds > 0:
            raise StepError(f"request-log: {name} {seconds} must be positive")
    log = RequestLog(store_for(output), entity, flush_rows, flush_seconds, max_pending, pair_seconds)
    server = ThreadingHTTPServer((host, port), handler_for(log, max_body))
    server.daemon_threads = True
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True).start()
    print(json.dumps({"listening": server.server_address[1], "output": output}), flush=True)
    while not stop.wait(1.0):
        log.tick()
    server.shutdown()
    server.server_close()
    log.close()
    return {"stopped": True, **log.counters.__dict__}
