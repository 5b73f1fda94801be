"""Processes for a smoke run: started by PID, bound to 127.0.0.1 on free ports, stopped by PID.

``Processes`` is a context manager: every program started through it is stopped when the block
ends, also when a check fails or the user presses Ctrl-C (SIGINT and SIGTERM are turned into a
normal exit of the block). Each program writes to its own log file; a program that exits early or
never opens its port raises ``SmokeFailure`` quoting the log's tail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from mlops_tools.smoke import SmokeFailure

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it: bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def failure(self, what: str) -> SmokeFailure:
        return SmokeFailure(f"{self.name}: {what}\n--- last lines of {self.log} ---\n{log_tail(self.log)}")


class Processes:
    """Start programs, wait for them, and stop all of them (by PID) when the block ends."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self.temp_dirs: list[Path] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "Processes":
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._interrupted)
            except ValueError:  # not the main thread: the caller's handler stays
                pass
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
        for path in self.temp_dirs:
            shutil.rmtree(path, ignore_errors=True)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def temp_dir(self, prefix: str) -> Path:
        """A private directory under /tmp (readable by service accounts such as postgres), removed at exit."""
        path = Path(tempfile.mkdtemp(prefix=f"smoke-{prefix}-"))
        self.temp_dirs.append(path)
        return path

    @staticmethod
    def _interrupted(signum, _frame) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    def start(self, name: str, argv: Sequence[str], env: Optional[Mapping[str, str]] = None,
              cwd: Optional[Path] = None, user: Optional[str] = None) -> Proc:
        """Start ``argv`` in its own process group; ``env`` is the whole environment (nothing inherited
        unless the caller passes it). ``user`` runs it as that account (for servers that refuse root)."""
        log = self.log_dir / f"{name}.log"
        handle = open(log, "ab")
        preexec = None
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)

            def preexec() -> None:  # noqa: F811 - runs in the child
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)
        popen = subprocess.Popen(list(argv), env=dict(env) if env is not None else None, cwd=cwd,
                                 stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 start_new_session=True, preexec_fn=preexec)
        handle.close()
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def run(self, name: str, argv: Sequence[str], env: Optional[Mapping[str, str]] = None,
            timeout: float = 120, cwd: Optional[Path] = None, user: Optional[str] = None) -> str:
        """Run a program to completion (e.g. an init container); its output goes to its log.
        A non-zero exit raises ``SmokeFailure`` with the log's tail."""
        proc = self.start(name, argv, env, cwd, user)
        try:
            code = proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(proc)
            raise proc.failure(f"did not finish within {timeout:.0f}s")
        if code != 0:
            raise proc.failure(f"exited with status {code}")
        return proc.log.read_text(errors="replace")

    def wait_port(self, proc: Proc, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise proc.failure(f"exited with status {proc.popen.returncode} before opening port {port}")
            try:
                with socket.create_connection((HOST, port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise proc.failure(f"did not open {HOST}:{port} within {timeout:.0f}s")

    def wait_url(self, proc: Proc, url: str, timeout: float = 60,
                 ready: Callable[[int], bool] = lambda status: status < 500) -> None:
        """Wait until ``url`` answers with a status ``ready`` accepts."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not proc.alive():
                raise proc.failure(f"exited with status {proc.popen.returncode} before {url} answered")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except (OSError, urllib.error.URLError) as error:
                last = str(error)
                time.sleep(0.2)
                continue
            if ready(status):
                return
            last = f"HTTP {status}"
            time.sleep(0.2)
        raise proc.failure(f"{url} not ready within {timeout:.0f}s (last: {last})")

    def stop(self, proc: Proc, grace: float = 10) -> None:
        """SIGTERM the program's process group by PID, SIGKILL it after ``grace`` seconds."""
        if proc.alive():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.popen.wait(timeout=5)
        else:
            # The leader is gone; children it left in its group (workers) still go.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
