"""Launchers for Feast's online stores that have an emulator here (next to ``services``, same contract:
``Processes`` stops them by PID, 127.0.0.1 only, free ports).

- Bigtable: Google's ``cbtemulator``, shipped by the Debian package ``google-cloud-cli-bigtable-emulator``
  (Google's Cloud SDK apt repository; the python machine image has 528.0.0). Clients reach it through
  ``BIGTABLE_EMULATOR_HOST``; it holds any project/instance in memory.
- Redis: ``redis-server`` (Debian) with TLS only and a password (Azure's Managed Redis as rendered).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from mlops_tools.smoke import MissingPrerequisite
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.procs import HOST, Processes, free_port
from mlops_tools.smoke.services import Endpoint, _minimal_env

BIGTABLE_PACKAGE = "google-cloud-cli-bigtable-emulator"


def bigtable_emulator() -> str:
    found = shutil.which("cbtemulator") or next(iter(sorted(glob.glob(
        "/usr/lib/google-cloud-sdk/platform/bigtable-emulator/cbtemulator"))), None)
    if not found:
        raise MissingPrerequisite(f"make smoke needs the Bigtable emulator 'cbtemulator' from the Debian package "
                                  f"{BIGTABLE_PACKAGE!r} (Google Cloud SDK apt repository): "
                                  f"`apt-get install -y {BIGTABLE_PACKAGE}`")
    return found


def start_bigtable(procs: Processes) -> Endpoint:
    port = free_port()
    proc = procs.start("bigtable-emulator", [bigtable_emulator(), "-host", HOST, "-port", str(port)], env=_minimal_env())
    procs.wait_port(proc, port, timeout=60)
    return Endpoint(f"{HOST}:{port}", {"BIGTABLE_EMULATOR_HOST": f"{HOST}:{port}"})


def certificate(procs: Processes, names: list[str], prefix: str) -> tuple[Path, Path]:
    """A self-signed certificate (made by this run, valid one day) for ``names`` (DNS names and 127.0.0.1):
    (certificate, key). Clients trust it through SSL_CERT_FILE / REQUESTS_CA_BUNDLE."""
    openssl = system_program("openssl")
    directory = procs.temp_dir(prefix)
    cert, key = directory / "server.crt", directory / "server.key"
    alt = ",".join(["IP:127.0.0.1", *(f"DNS:{name}" for name in names)])
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", f"subjectAltName={alt}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


@dataclass
class Redis:
    port: int
    password: str
    ca_file: Path

    def connection_string(self, ssl: bool = True) -> str:
        """Feast's Redis connection string, in the form the Azure stacks render into their Secret."""
        return f"{HOST}:{self.port},ssl={'true' if ssl else 'false'},password={self.password}"


def start_redis(procs: Processes, tls: Optional[tuple[Path, Path]] = None) -> Redis:
    """redis-server (Debian) that speaks only TLS (no plaintext port) and requires a password, like Azure
    Managed Redis with ``clientProtocol=Encrypted`` and access keys. ``tls``: (certificate, key) to serve,
    else one made for 127.0.0.1."""
    program = system_program("redis-server")
    cert, key = tls or certificate(procs, [], "redis")
    password = secrets.token_urlsafe(24)
    port = free_port()
    proc = procs.start("redis", [program, "--bind", HOST, "--port", "0", "--tls-port", str(port),
                                 "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                                 "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
                                 "--requirepass", password, "--save", "", "--appendonly", "no"], env=_minimal_env())
    procs.wait_port(proc, port, timeout=30)
    return Redis(port, password, cert)
