"""Starting a policy pack the way the Pulumi CLI starts a Python pack, and talking to its Analyzer server.

Each pack runs as `<python> __main__.py` with the pack directory as working directory (PYTHONPATH adds
policies/common, which the pack's requirements.txt installs as `../common` under the CLI). It prints the
port of its Analyzer gRPC server. `<python>` is the pack's own virtualenv when it exists (PulumiPolicy.yaml
`runtime.options.virtualenv`, created by the CLI), else this interpreter.

When the pack runs on this interpreter and this process has no other thread yet (the preview starts its
packs first thing), the pack process is forked from this one instead of exec'd: it then runs the same
`__main__.py` (same working directory, sys.path, argv, environment, stdout/stderr) without importing
pulumi, pulumi_policy and grpc again, which was ~0.2 s CPU per pack, most of what a pack cost once its
analysis decoded each resource once (issue 18). A process with threads that starts many packs (a test
worker) can have them forked by a single-threaded helper instead (`fork_server.enable()`). Anything else
(a pack venv, threads already running, a pack booted after the program) starts the exact CLI way.
"""

from __future__ import annotations

import ast
import io
import json
import os
import runpy
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Iterable, Optional

import grpc
import yaml
from pulumi.runtime.proto import analyzer_pb2_grpc

STARTUP_TIMEOUT_S = 60.0
RPC_TIMEOUT_S = 120.0
STDERR_TAIL_LINES = 15
# Where a pack built with mlops_policy.policies() declares the resource types its rules read
# (mlops_policy.loader.TYPES_FILE_ENV; the Pulumi CLI never sets it).
TYPES_FILE_ENV = "MLOPS_POLICY_TYPES_FILE"


class PolicyPackError(Exception):
    """A pack could not be started, configured or run; the message is one line plus the pack's stderr tail."""


def discover_packs(root: Path) -> list[Path]:
    """Pack directories (those holding PulumiPolicy.yaml) directly under ``root``, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        raise PolicyPackError(f"no policy pack directory at {root}")
    return sorted(p for p in root.iterdir() if (p / "PulumiPolicy.yaml").is_file())


def declared_provider(pack_dir: Path) -> Optional[str]:
    """The provider the pack's __main__.py passes to `PolicyPack(provider="...")`, read without running it.

    "" when PolicyPack is called without one; None when the file cannot tell (not a literal, no call
    found, unreadable). Only a boot-order hint: which packs run is decided by what they answer.
    """
    try:
        tree = ast.parse((pack_dir / "__main__.py").read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "PolicyPack":
            for keyword in node.keywords:
                if keyword.arg == "provider":
                    value = keyword.value
                    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
            return ""
    return None


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


class _ForkedProcess:
    """The part of subprocess.Popen the runner uses, for a pack forked from this interpreter."""

    def __init__(self, pid: int, stdout: Any):
        self.pid, self.stdout, self.returncode = pid, stdout, None

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"policy pack {self.pid}", timeout or 0)
            time.sleep(0.01)
        return self.returncode  # type: ignore[return-value]

    def _signal(self, number: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


def _run_forked_pack(pack_dir: Path, stdout_fd: int, stderr_fd: int, env: dict) -> None:
    """In the forked child: become `python __main__.py` in the pack directory; never returns."""
    code = 1
    try:
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        # Unbuffered, as PYTHONUNBUFFERED makes an exec'd pack: the SDK writes its port without flushing.
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(pack_dir)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["__main__.py"]
        sys.path[:0] = [str(pack_dir)] + [p for p in env["PYTHONPATH"].split(os.pathsep) if p not in sys.path]
        runpy.run_path("__main__.py", run_name="__main__")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported on stderr like an exec'd interpreter would
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)


def _single_threaded() -> bool:
    """No other thread in this process, Python's or native (gRPC's core, say): forking is then safe."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _can_fork(python: str) -> bool:
    return hasattr(os, "fork") and python == sys.executable and _single_threaded()


def _fork_server() -> Any:
    """This process's pack fork server, if it enabled one (a test worker: fork_server.py imports this module)."""
    from mlops_tools.policy import fork_server

    return fork_server.running()


def fork_into_pack(pack_dir: Path, stdout_fd: int, stderr_fd: int, env: dict, close_in_child: tuple = ()) -> int:
    """Fork; the child closes `close_in_child` and becomes the pack (`_run_forked_pack`). Returns the child's pid.

    Buffered output is flushed first, so the child never writes out this process's pending text again.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        for fd in close_in_child:
            os.close(fd)
        _run_forked_pack(pack_dir, stdout_fd, stderr_fd, env)
    return pid


def _fork_pack(pack_dir: Path, env: dict, stderr: Any) -> _ForkedProcess:
    # What every pack imports first, loaded once here and shared with each forked pack (copy on write).
    import pulumi_policy  # noqa: F401

    read_fd, write_fd = os.pipe()
    pid = fork_into_pack(pack_dir, write_fd, stderr.fileno(), env, close_in_child=(read_fd,))
    os.close(write_fd)
    return _ForkedProcess(pid, os.fdopen(read_fd, "rb", buffering=0))


class _PackProcess:
    """One running pack: its process, port, channel and stub."""

    def __init__(self, pack_dir: Path, allow_fork: bool = False):
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
        descriptor, self.types_path = tempfile.mkstemp(prefix=f"mlops-{self.label}-types-", suffix=".jsonl")
        os.close(descriptor)
        env[TYPES_FILE_ENV] = self.types_path
        python = _pack_python(pack_dir, self.doc)
        self.process: Any
        if allow_fork and _can_fork(python):
            self.process = _fork_pack(pack_dir, env, self.stderr)
        elif allow_fork and python == sys.executable and (served := _fork_server()) is not None:
            self.process = served.fork(pack_dir, env, self.stderr)
        else:
            self.process = subprocess.Popen(
                [python, "__main__.py"], cwd=pack_dir, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
            )
        self.channel: Optional[grpc.Channel] = None
        self.stub: Optional[analyzer_pb2_grpc.AnalyzerStub] = None

    def declared_types(self) -> Optional[dict]:
        """The types the pack's rules read, as it declared them before serving; None if it did not.

        One JSON line per `mlops_policy.policies()` call: {"policies": [...], "resource": [...] | null,
        "stack": [...] | null} (null = every resource). Lines are merged; a pack that mixes in rules
        from elsewhere is caught by the runner comparing "policies" with what the pack serves.
        """
        try:
            with open(self.types_path, encoding="utf-8") as lines:
                entries = [json.loads(line) for line in lines if line.strip()]
        except (OSError, ValueError):
            return None
        if not entries:
            return None
        merged: dict = {"policies": sorted(name for e in entries for name in e.get("policies") or ())}
        for key in ("resource", "stack"):
            parts = [e.get(key) for e in entries]
            merged[key] = None if any(p is None for p in parts) else sorted({x for p in parts for x in p})
        return merged

    def terminate(self) -> None:
        """Ask the process to end (a pack still booting then stops reading its port at once)."""
        if self.process.poll() is None:
            self.process.terminate()

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
        ready = grpc.channel_ready_future(self.channel)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # in short waits, so a pack stopped meanwhile (an error elsewhere) ends this at once
            try:
                ready.result(timeout=0.5)
                break
            except grpc.FutureTimeoutError:
                if self.process.poll() is not None:
                    raise self.fail(f"exited with code {self.process.returncode} after printing port {port}") from None
                if time.monotonic() > deadline:
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
            raise self._failed(method, exc) from None

    def call_each(self, method: str, requests: Iterable[Any]) -> list:
        """`method` once per request, every request sent before the first answer is read; answers in order.

        Why not `call` in a loop: each unary call then waits for its round trip (the pack's server
        thread, the interpreter lock on both sides) before the next is sent; prod's ~270 Analyze calls
        spent ~0.07 s of the preview's wall time that way (issue 18). The engine, too, has several
        Analyze calls in flight while resources register; the pack's servicer keeps no state between
        requests.
        """
        stub_method = getattr(self.stub, method)
        pending = [stub_method.future(request, timeout=RPC_TIMEOUT_S) for request in requests]
        try:
            return [answer.result() for answer in pending]
        except grpc.RpcError as exc:
            for answer in pending:
                answer.cancel()
            raise self._failed(method, exc) from None

    def _failed(self, method: str, exc: grpc.RpcError) -> PolicyPackError:
        detail = exc.details() if hasattr(exc, "details") else str(exc)
        return self.fail(f"failed in {method}: {detail}")

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
        try:
            os.unlink(self.types_path)
        except FileNotFoundError:
            pass
