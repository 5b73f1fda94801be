"""Forking policy packs for a process that cannot fork them itself (a test worker).

Why (issue 18): a pack forked from a Python process that already imported pulumi_policy starts for
~0.03 s CPU; exec'd (`python __main__.py`) it costs ~0.19 s. pack_process.py forks only from a
process without other threads (the preview, at its start). A pytest-xdist worker always has one (its
I/O thread, and gRPC's once a pack was queried) and starts ~80 packs per `make test`.

`enable()` makes such a process start one helper, exec'd and therefore single-threaded, which imports
pulumi_policy once and forks each pack on request. The pack then runs exactly as one forked from the
preview (`pack_process._run_forked_pack`: the pack's working directory, sys.path additions,
environment, stdout and stderr, the last two passed as file descriptors over a Unix socket). The
packs are the helper's children: it reaps them and reports their exit codes. It ends, stopping any
pack still running, when its caller's end of the socket closes (the caller exited). The CLI never
enables it: its packs fork directly.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

from mlops_tools.policy.pack_process import _ForkedProcess, fork_into_pack

_MAX_MESSAGE = 1 << 20
_enabled = False
_server: Optional["ForkServer"] = None
_server_lock = threading.Lock()


def enable() -> None:
    """Start packs through a fork server from now on, in this process (started on first use)."""
    global _enabled
    _enabled = True


def running() -> Optional["ForkServer"]:
    """The fork server, started on first use; None when not enabled."""
    global _server
    if not _enabled:
        return None
    with _server_lock:
        if _server is None or _server.process.poll() is not None:
            _server = ForkServer()
        return _server


class ForkServer:
    """The caller's side: start the helper, ask it to fork a pack, ask for a pack's exit code."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, path] if path else [root])}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from mlops_tools.policy.fork_server import serve; serve()", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self._socket = ours
        self._lock = threading.Lock()  # one request and its answer at a time, whichever thread asks

    def _ask(self, request: dict, fds: tuple = ()) -> dict:
        with self._lock:
            socket.send_fds(self._socket, [json.dumps(request).encode()], list(fds))
            answer = self._socket.recv(_MAX_MESSAGE)
        if not answer:
            raise OSError("the policy pack fork server has exited")
        return json.loads(answer)

    def fork(self, pack_dir: Path, env: dict, stderr: Any) -> "ServedProcess":
        """Fork `pack_dir`'s pack with `env`; its stdout is the returned process's pipe, its stderr `stderr`."""
        read_fd, write_fd = os.pipe()
        try:
            pid = self._ask({"fork": str(pack_dir), "env": env}, (write_fd, stderr.fileno()))["pid"]
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        return ServedProcess(self, pid, os.fdopen(read_fd, "rb", buffering=0))

    def exit_code(self, pid: int) -> Optional[int]:
        try:
            return self._ask({"exit_code": pid})["code"]
        except OSError:  # the helper is gone; it stopped its packs on the way out
            return -signal.SIGKILL


class ServedProcess(_ForkedProcess):
    """A pack forked by the fork server: the same handle as a pack forked here, its exit code from the server."""

    def __init__(self, server: ForkServer, pid: int, stdout: Any):
        super().__init__(pid, stdout)
        self._server = server

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            self.returncode = self._server.exit_code(self.pid)
        return self.returncode


def _reap(exits: dict, children: set) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        children.discard(pid)
        exits[pid] = os.waitstatus_to_exitcode(status)


def serve() -> None:
    """The helper: fork a pack per request until the caller's end of the socket closes."""
    import pulumi_policy  # noqa: F401 - what every pack imports first, loaded once and shared (copy on write)

    channel = socket.socket(fileno=int(sys.argv[1]))
    exits: dict = {}
    children: set = set()
    try:
        while True:
            _reap(exits, children)
            if not select.select([channel], [], [], 0.05)[0]:
                continue
            try:
                message, fds, _, _ = socket.recv_fds(channel, _MAX_MESSAGE, 2)
            except OSError:
                return
            if not message:
                return
            request = json.loads(message)
            if "fork" in request:
                pid = fork_into_pack(Path(request["fork"]), fds[0], fds[1], request["env"],
                                     close_in_child=(channel.fileno(),))
                children.add(pid)
                for fd in fds:
                    os.close(fd)
                answer = {"pid": pid}
            else:
                _reap(exits, children)
                answer = {"code": exits.get(request["exit_code"])}
            channel.send(json.dumps(answer).encode())
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
