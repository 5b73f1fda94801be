"""Launchers for the services a smoke run's workloads talk to, all on 127.0.0.1 with free ports.

Each launcher takes the run's ``Processes`` (which stops what it starts) and returns a small record
with what a client needs (endpoint, credentials the run generated). Nothing here reads the plan:
the tests decide what to start from the rendered config.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import quote

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import npm_tool, system_program, venv
from mlops_tools.smoke.procs import HOST, Processes, free_port

# Characters that must be percent-encoded in a URI's userinfo: a password with them proves the
# rendered URI template encodes the password (External Secrets' ``urlquery``, ``quote(..., safe="")``).
URL_HOSTILE = "@:/%?#"


def hostile_password() -> str:
    token = secrets.token_urlsafe(18)
    return f"{token[:8]}{URL_HOSTILE}{token[8:]}"


def _minimal_env(**extra: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL", "TZ") if key in os.environ}
    env.update(extra)
    return env


@dataclass
class Postgres:
    host: str
    port: int
    user: str
    password: str
    database: str
    ca_file: Path  # the run's self-signed server certificate (clients may verify with sslmode=verify-full)
    log: Optional[Path] = None  # the server's log (stderr), e.g. for pgAudit's AUDIT lines
    log_offset: int = 0  # where this server's lines start in it (a log file is appended to across runs)

    def server_log(self, since: Optional[int] = None) -> str:
        """This server's log lines (from byte ``since``, default: its start)."""
        if self.log is None:
            return ""
        return self.log.read_bytes()[self.log_offset if since is None else since:].decode(errors="replace")

    def uri(self, scheme: str = "postgresql+psycopg2", sslmode: str = "require") -> str:
        return (f"{scheme}://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{self.host}:{self.port}/"
                f"{self.database}?sslmode={sslmode}")


def start_postgres(procs: Processes, database: str = "mlflow", user: str = "mlops",
                   settings: Optional[Mapping[str, str]] = None) -> Postgres:
    """PostgreSQL (Debian package) that accepts only TLS connections with a password (scram-sha-256).

    ``settings`` are server settings on top (``-c name=value``), e.g. the rendered Cloud SQL flags
    (``mlops_tools.smoke.db_flags``); a value PostgreSQL rejects stops the server, and the run fails.

    The certificate is self-signed for 127.0.0.1 and made by this run; the password contains
    ``@:/%?#`` so a URI that does not encode it breaks. As root the server runs as ``postgres``
    (it refuses root).
    """
    initdb, postgres, openssl, psql = (system_program(p) for p in ("initdb", "postgres", "openssl", "psql"))
    base = procs.temp_dir("postgres")
    data, certs = base / "data", base / "tls"
    certs.mkdir()
    password = hostile_password()
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(certs / "server.key"),
                    "-out", str(certs / "server.crt")], check=True, capture_output=True)
    os.chmod(certs / "server.key", 0o600)
    run_as = "postgres" if os.geteuid() == 0 else None
    if run_as:
        shutil.chown(base, run_as)
        for path in (certs, certs / "server.key", certs / "server.crt", pwfile):
            shutil.chown(path, run_as)
    procs.run("postgres-initdb", [initdb, "-D", str(data), "-U", user, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                                  "-E", "UTF8", "--no-sync"], env=_minimal_env(), user=run_as, timeout=120)
    pwfile.unlink()
    # TLS only: a connection without TLS is rejected before the password is asked for.
    (data / "pg_hba.conf").write_text("hostnossl all all 0.0.0.0/0 reject\n"
                                      "hostssl all all 127.0.0.1/32 scram-sha-256\n")
    port = free_port()
    server_log = procs.log_dir / "postgres.log"
    log_offset = server_log.stat().st_size if server_log.exists() else 0
    server = procs.start("postgres", [
        postgres, "-D", str(data), "-c", f"listen_addresses={HOST}", "-c", f"port={port}",
        "-c", f"unix_socket_directories={base}", "-c", "ssl=on", "-c", f"ssl_cert_file={certs / 'server.crt'}",
        "-c", f"ssl_key_file={certs / 'server.key'}", "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "max_connections=100", *(arg for name, value in sorted((settings or {}).items())
                                       for arg in ("-c", f"{name}={value}"))], env=_minimal_env(), user=run_as)
    procs.wait_port(server, port, timeout=60)
    env = _minimal_env(PGPASSWORD=password, PGSSLMODE="require")
    argv = [psql, "-v", "ON_ERROR_STOP=1", "-h", HOST, "-p", str(port), "-U", user, "-d", "postgres"]
    deadline = time.monotonic() + 60
    while True:  # the port opens before recovery ends ("the database system is starting up")
        ready = subprocess.run([*argv, "-c", "SELECT 1"], env=env, capture_output=True, text=True)
        if ready.returncode == 0 or time.monotonic() > deadline or not server.alive():
            break
        time.sleep(0.2)
    procs.run("postgres-createdb", [*argv, "-c", f'CREATE DATABASE "{database}"'], env=env, timeout=60)
    return Postgres(HOST, port, user, password, database, certs / "server.crt", server.log, log_offset)


@dataclass
class Endpoint:
    url: str
    env: dict[str, str]  # what a client of this emulator sets (endpoint, credentials the run made)


def start_moto(procs: Processes) -> Endpoint:
    """moto's server (S3, STS, IAM, DynamoDB, ...) from the project's pinned moto[server]."""
    port = free_port()
    proc = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], env=_minimal_env())
    url = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{url}/moto-api/", timeout=60)
    key, secret = "AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    return Endpoint(url, {"AWS_ENDPOINT_URL": url, "MLFLOW_S3_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": key,
                          "AWS_SECRET_ACCESS_KEY": secret})


def start_azurite(procs: Processes, account: str, tls: Optional[tuple[Path, Path]] = None) -> Endpoint:
    """Azurite's Blob service (npm, pinned) with the storage account the rendered config names and a key
    the run generates; clients get a connection string for it.

    ``tls`` (certificate, key): serve HTTPS and take the account from the Host header
    (``<account>.blob.core.windows.net``, production-style URLs), for clients that build the account URL
    from the rendered name."""
    program = npm_tool("azurite", "azurite-blob")
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    port = free_port()
    location = procs.temp_dir("azurite")
    env = _minimal_env(AZURITE_ACCOUNTS=f"{account}:{key}")
    style = ["--cert", str(tls[0]), "--key", str(tls[1])] if tls else ["--disableProductStyleUrl"]
    proc = procs.start("azurite", [str(program), "--blobHost", HOST, "--blobPort", str(port), "--location", str(location),
                                   "--skipApiVersionCheck", *style, "--silent"], env=env)
    procs.wait_port(proc, port, timeout=60)
    scheme = "https" if tls else "http"
    url = f"{scheme}://{HOST}:{port}/{account}"
    connection = (f"DefaultEndpointsProtocol={scheme};AccountName={account};AccountKey={key};BlobEndpoint={url};")
    return Endpoint(url, {"AZURE_STORAGE_CONNECTION_STRING": connection})


def start_gcs(procs: Processes) -> Endpoint:
    """gcp-storage-emulator (PyPI, pinned) in memory; google-cloud-storage clients reach it through
    ``STORAGE_EMULATOR_HOST``."""
    bin_dir = venv("gcs")
    port = free_port()
    proc = procs.start("gcs-emulator", [str(bin_dir / "gcp-storage-emulator"), "start", "--host", HOST,
                                        "--port", str(port), "--in-memory"], env=_minimal_env())
    procs.wait_port(proc, port, timeout=60)
    url = f"http://{HOST}:{port}"
    return Endpoint(url, {"STORAGE_EMULATOR_HOST": url, "GOOGLE_CLOUD_PROJECT": "smoke"})


@dataclass
class Prometheus:
    url: str
    config_file: Path


def start_prometheus(procs: Processes, config: Mapping[str, Any], rule_files: Mapping[str, Mapping[str, Any]] = {},
                     files: Optional[Mapping[str, str]] = None) -> Prometheus:
    """Prometheus (Debian package) with ``config`` (scrape configs) and ``rule_files`` {name: rule groups}.

    ``files`` are extra files (e.g. a basic-auth password file) written beside the config; a config
    may name them by their key as a path relative to the config's directory.
    """
    prometheus = system_program("prometheus")
    base = procs.temp_dir("prometheus")
    rules = []
    for name, groups in rule_files.items():
        path = base / f"{name}.rules.json"
        path.write_text(json.dumps(groups))
        rules.append(str(path))
    for name, content in (files or {}).items():
        path = base / name
        path.write_text(content)
        os.chmod(path, 0o600)
    full = {**config, "rule_files": rules}
    config_file = base / "prometheus.yml"
    config_file.write_text(json.dumps(full, indent=1))  # JSON is YAML
    port = free_port()
    proc = procs.start("prometheus", [prometheus, f"--config.file={config_file}", f"--storage.tsdb.path={base / 'data'}",
                                      f"--web.listen-address={HOST}:{port}", "--web.enable-lifecycle"],
                       env=_minimal_env(), cwd=base)
    url = f"http://{HOST}:{port}"
    procs.wait_url(proc, f"{url}/-/ready", timeout=60, ready=lambda status: status == 200)
    return Prometheus(url, config_file)
