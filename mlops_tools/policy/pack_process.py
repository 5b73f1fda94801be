"""Starting a policy pack the way the Pulumi CLI starts a Python pack, and talking to its Analyzer server.

Each pack runs as `<python> __main__.py` with the pack directory as working directory (PYTHONPATH adds
policies/common, which the pack's requirements.txt installs as `../common` under the CLI). It prints the
port of its Analyzer gRPC server. `<python>` is the pack's own virtualenv when it exists (PulumiPolicy.yaml
`runtime.options.virtualenv`, created by the CLI), else this interpreter.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import grpc
import yaml
from pulumi.runtime.proto import analyzer_pb2_grpc

STARTUP_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 120.0
STDERR_TAIL_LINES = 15


class PolicyPackError(Exception):
    """A pack could not be started, configured or run; the message is one line plus the pack's stderr tail."""


def discover_packs(root: Path) -> list[Path]:
    """Pack directories (those holding PulumiPolicy.yaml) directly under ``root``, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise PolicyPackError(f"no policy pack directory at {root}")
    return sorted(p for p in root.iterdir() if (p / "PulumiPolicy.yaml").is_file())


def _read_pack_yaml(pack_dir: Path) -> dict:
    try:
        doc = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyPackError(f"policy pack {pack_dir.name}: cannot read PulumiPolicy.yaml: {exc}".replace("\n", " "))
    if not isinstance(doc, dict):
        raise PolicyPackError(f"policy pack {pack_dir.name}: PulumiPolicy.yaml is not a mapping")
    return doc


def _pack_python(pack_dir: Path, doc: dict) -> str:
    runtime = doc.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if venv:
        candidate = (pack_dir / venv / "bin" / "python")
        if candidate.exists():
            return str(candidate)
    return sys.executable


class _PackProcess:
    """One running pack: its process, port, channel and stub."""

    def __init__(self, pack_dir: Path):
        self.dir = pack_dir
        self.label = pack_dir.name
        self.doc = _read_pack_yaml(pack_dir)
        runtime = self.doc.get("runtime")
        runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime_name != "python":
            raise PolicyPackError(f"policy pack {self.label}: runtime {runtime_name!r} is not supported (python only)")
        self.version = str(self.doc.get("version") or "")
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        common = str(pack_dir.parent / "common")
        env["PYTHONPATH"] = os.pathsep.join([common] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env["PYTHONUNBUFFERED"] = "1"  # the SDK writes the port without flushing
        self.process = subprocess.Popen(
            [_pack_python(pack_dir, self.doc), "__main__.py"], cwd=pack_dir, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        self.channel: Optional[grpc.Channel] = None
        self.stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None

    def stderr_tail(self) -> str:
        self.stderr.seek(0)
        lines = self.stderr.read().decode(errors="replace").strip().splitlines()
        return "\n".join(lines[-STDERR_TAIL_LINES:])

    def fail(self, what: str) -> PolicyPackError:
        tail = self.stderr_tail()
        return PolicyPackError(f"policy pack {self.label} ({self.dir}) {what}" + (f"; stderr:\n{tail}" if tail else ""))

    def connect(self) -> None:
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        try:
            grpc.channel_ready_future(self.channel).result(timeout=STARTUP_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            raise self.fail(f"printed port {port} but its gRPC server did not answer") from None
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self.fail(f"did not print its port within {STARTUP_TIMEOUT_S:.0f}s")
                if not selector.select(timeout=min(remaining, 0.5)):
                    if self.process.poll() is not None:
                        raise self.fail(f"exited with code {self.process.returncode} before printing its port")
                    continue
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(timeout=5)
                    raise self.fail(f"exited with code {self.process.returncode} before printing its port")
                buffer += chunk
        line = buffer.split(b"\n", 1)[0].strip()
        try:
            return int(line)
        except ValueError:
            raise self.fail(f"printed {line[:80]!r} instead of a port number") from None

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            raise self.fail(f"failed in {method}: {detail}") from None

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()
