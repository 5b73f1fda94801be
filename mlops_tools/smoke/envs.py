"""What a smoke run installs: per-software virtualenvs, pinned npm tools, Debian programs.

- ``venv(name)``: ``build/smoke/venv/<name>`` from ``requirements/<name>.txt`` (every package pinned
  with ``==``; software whose pins conflict with the project's, like MLflow or Feast, lives here and
  never in ``.venv``). A stamp holds the file's hash; a changed file rebuilds the venv.
- ``npm_tool(name, program)``: ``npm ci`` of ``requirements/<name>/package.json`` + lock file into
  ``build/smoke/npm/<name>``.
- ``system_program(program)``: the path of a program from a Debian package. When it is missing and
  this process may install (root, or ``CI=true``), ``apt-get install`` the package; otherwise raise
  ``MissingPrerequisite`` naming the package and the command. In CI a missing prerequisite fails.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from mlops_tools.smoke import MissingPrerequisite
from mlops_tools.smoke.plan import REPO

SMOKE_DIR = REPO / "build" / "smoke"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements"

# program -> Debian package that ships it (bookworm).
DEBIAN_PACKAGES = {
    "initdb": "postgresql", "postgres": "postgresql", "psql": "postgresql-client",
    "openssl": "openssl", "prometheus": "prometheus", "promtool": "prometheus",
    "amtool": "prometheus-alertmanager", "prometheus-alertmanager": "prometheus-alertmanager",
    "prometheus-pushgateway": "prometheus-pushgateway", "node": "nodejs", "npm": "npm", "redis-server": "redis-server",
    "nginx": "nginx",  # the SSO front door (tests/smoke/test_front_door.py)
    "ip": "iproute2", "unshare": "util-linux",
    # pgAudit for the Cloud SQL flag cloudsql.enable_pgaudit (tests/smoke/test_pgaudit.py): a server library of
    # the PostgreSQL major that runs, bookworm's only one (15); _find looks next to that server.
    "pgaudit.so": "postgresql-15-pgaudit",
}
_lock = threading.Lock()
_apt_updated = False


def may_install() -> bool:
    return os.geteuid() == 0 or os.environ.get("CI") == "true"


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def venv(name: str) -> Path:
    """The ``bin`` directory of the virtualenv for ``name``, created or refreshed from its pinned file."""
    requirements = REQUIREMENTS / f"{name}.txt"
    if not requirements.is_file():
        raise MissingPrerequisite(f"no pinned requirements for {name!r}: expected {requirements}")
    wanted = _digest(requirements)
    (SMOKE_DIR / "venv").mkdir(parents=True, exist_ok=True)
    # The resolved path: a venv's scripts name their interpreter by the path the venv was built at, so one
    # built through a symlinked build/ (a git worktree sharing the venvs) must be built at the real path.
    target = (SMOKE_DIR / "venv").resolve() / name
    stamp = target / ".requirements-sha256"
    # A lock file across processes too: the per-stack smoke processes run side by side, and two pips
    # installing into one directory left a venv without its programs (and a stamp written twice).
    with _lock, open(target.parent / f".{name}.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == wanted:
            return target / "bin"
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
        result = subprocess.run([str(target / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                 "--disable-pip-version-check", "--requirement", str(requirements)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise MissingPrerequisite(f"pip could not install {requirements}:\n{result.stderr[-3000:]}")
        stamp.write_text(wanted)
    return target / "bin"


def npm_tool(name: str, program: str) -> Path:
    """A program of a pinned npm package set (``requirements/<name>/package.json`` and its lock file)."""
    path = npm_set(name) / "node_modules" / ".bin" / program
    if not path.exists():
        raise MissingPrerequisite(f"npm package set {name!r} has no program {program!r} ({path})")
    return path


def npm_set(name: str) -> Path:
    """The directory of a pinned npm package set, installed with ``npm ci`` (for libraries run by a script)."""
    source = REQUIREMENTS / name
    manifest, lock = source / "package.json", source / "package-lock.json"
    if not lock.is_file():
        raise MissingPrerequisite(f"no npm lock file for {name!r}: expected {lock}")
    target = SMOKE_DIR / "npm" / name
    stamp = target / ".lock-sha256"
    wanted = _digest(manifest, lock)
    with _lock:
        if not (stamp.is_file() and stamp.read_text() == wanted):
            npm = system_program("npm")
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            shutil.copy(manifest, target)
            shutil.copy(lock, target)
            result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise MissingPrerequisite(f"npm ci of {source} failed:\n{result.stderr[-3000:]}")
            stamp.write_text(wanted)
    return target


def _find(program: str) -> str | None:
    if program in ("initdb", "postgres"):
        # Debian keeps the server programs out of PATH, one directory per major version.
        found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
                       key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
        if found:
            return found[-1]
    if program.endswith(".so"):  # a server library: in the lib directory of the server _find picks
        server = _find("postgres")
        library = Path(server).parents[1] / "lib" / program if server else None
        return str(library) if library and library.is_file() else None
    return shutil.which(program)


def system_program(program: str) -> str:
    """Path of ``program``; installs its Debian package when allowed, else says what is missing."""
    global _apt_updated
    path = _find(program)
    if path:
        return path
    package = DEBIAN_PACKAGES.get(program, program)
    if not may_install() or shutil.which("apt-get") is None:
        raise MissingPrerequisite(f"make smoke needs {program!r} from the Debian package {package!r}: "
                                  f"run `sudo apt-get install -y {package}` (make smoke installs it itself as root or in CI)")
    with _lock:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if not _apt_updated:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            _apt_updated = True
        result = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
                                env=env, capture_output=True, text=True)
    path = _find(program)
    if result.returncode != 0 or not path:
        raise MissingPrerequisite(f"apt-get install {package} (for {program!r}) failed:\n{result.stderr[-2000:]}")
    return path
