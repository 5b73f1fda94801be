"""Run a stack's rendered front door (nginx.conf from the plan's ConfigMap) with the real nginx on 127.0.0.1.

What comes from the plan: the whole nginx.conf (listeners, server names, TLS settings, allow-lists,
upstreams, headers) and the Certificate's DNS names. What the run replaces, and why: the certificate
(cert-manager issues it in the cluster; here a CA made for the run signs one with the Certificate's DNS
names, key type and usages), the listen ports (free ports on 127.0.0.1), the upstream Services' cluster DNS
names (stand-in backends on 127.0.0.1 that echo what they receive), the writable paths (/tmp -> the run's
directory) and, for the routing checks only, the private network's CIDRs (-> 127.0.0.1/32: the client here).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Mapping, Optional

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.plan import Plan
from mlops_tools.smoke.procs import HOST, Processes, free_port

NAME, NAMESPACE = "front-door", "mlops"
TLS_DIR = "/etc/front-door/tls"


@dataclass
class FrontDoorRun:
    ports: dict[int, int]  # rendered listen port -> local port
    ca_path: Path
    hostnames: list[str]
    backends: dict[str, "Backend"] = field(default_factory=dict)  # rendered upstream host:port -> backend


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = json.dumps({"backend": self.server.label, "path": self.path,  # type: ignore[attr-defined]
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # quiet
        return None


@dataclass
class Backend:
    label: str
    port: int
    server: ThreadingHTTPServer


def _start_backend(label: str, tls: Optional[tuple[Path, Path]] = None) -> Backend:
    """An echo server answering with its label; ``tls`` = (certificate, key) makes it speak HTTPS, as a UI
    that serves TLS itself does (Argo's server: nginx encrypts that hop without verifying it)."""
    server = ThreadingHTTPServer((HOST, 0), _Echo)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.label = label  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Backend(label, server.server_address[1], server)


def issue_certificate(plan: Plan, target: Path) -> tuple[Path, list[str]]:
    """A CA for this run and a server certificate shaped like the plan's Certificate (stands in for
    cert-manager's CA issuer)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    spec = plan.k8s_object("Certificate", NAME, NAMESPACE)["spec"]
    if spec["privateKey"]["algorithm"] != "ECDSA" or spec["privateKey"]["size"] != 256:
        raise SmokeFailure(f"{plan.stack}: the front door certificate's key is {spec['privateKey']}; the run issues P-256")
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smoke platform CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(hours=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in spec["dnsNames"]]), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    target.mkdir(parents=True, exist_ok=True)
    (target / "tls.crt").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (target / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (target / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return target / "ca.crt", list(spec["dnsNames"])


def start_front_door(procs: Processes, plan: Plan, work: Path, open_to_client: bool,
                     running: Optional[Mapping[str, int]] = None) -> FrontDoorRun:
    """nginx with the plan's config; ``open_to_client`` maps the private CIDRs to this client's address.
    ``running``: Service name -> local port of a real server this run already started (e.g. MLflow);
    the other upstreams get echo backends."""
    config = plan.k8s_object("ConfigMap", NAME, NAMESPACE)["data"]["nginx.conf"]
    ca_path, hostnames = issue_certificate(plan, work / "tls")
    ports = {int(p): free_port() for p in sorted(set(re.findall(r"listen (\d+)", config)))}
    run = FrontDoorRun(ports, ca_path, hostnames)
    for scheme, upstream in sorted(set(re.findall(r"proxy_pass (https?)://([^;/]+);", config))):
        service = upstream.split(".")[0]
        if service in (running or {}):
            if scheme == "https":
                raise SmokeFailure(f"{plan.stack}: {upstream} is rendered as a TLS upstream; the run's {service} speaks HTTP")
            port = (running or {})[service]
        else:
            tls = (work / "tls" / "tls.crt", work / "tls" / "tls.key") if scheme == "https" else None
            run.backends[upstream] = _start_backend(service, tls)
            port = run.backends[upstream].port
        config = config.replace(f"://{upstream};", f"://{HOST}:{port};")
    for rendered, local in ports.items():
        config = re.sub(rf"listen {rendered}\b", f"listen {HOST}:{local}", config)
    config = config.replace("/tmp/", f"{work}/").replace(TLS_DIR, str(work / "tls"))  # work may be under /tmp
    if open_to_client:
        config = re.sub(r"allow (\d+\.\d+\.\d+\.\d+/\d+);", f"allow {HOST}/32;", config)
    (work / "nginx.conf").write_text(config)
    nginx = system_program("nginx")
    proc = procs.start(f"nginx-{'open' if open_to_client else 'rendered'}",
                       [nginx, "-p", str(work), "-e", "stderr", "-c", str(work / "nginx.conf"), "-g", "daemon off;"],
                       {"PATH": "/usr/sbin:/usr/bin:/bin"}, cwd=work)
    health = next(local for rendered, local in ports.items() if f"listen {HOST}:{local};" in config)
    procs.wait_url(proc, f"http://{HOST}:{health}/healthz", timeout=30, ready=lambda status: status == 200)
    return run


def https_get(run: FrontDoorRun, port: int, hostname: str, path: str = "/",
              auth: Optional[tuple[str, str]] = None) -> tuple[int, dict]:
    """GET over TLS to the front door, as a browser resolving ``hostname`` to it would (SNI + Host),
    trusting only the run's CA."""
    import urllib3

    pool = urllib3.HTTPSConnectionPool(HOST, run.ports[port], server_hostname=hostname, assert_hostname=hostname,
                                       ca_certs=str(run.ca_path), cert_reqs="CERT_REQUIRED", retries=False, timeout=10)
    headers = {"Host": hostname}
    if auth is not None:
        headers.update(urllib3.util.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
    response = pool.request("GET", path, headers=headers)
    try:
        body = json.loads(response.data) if response.headers.get("Content-Type", "").startswith("application/json") else {}
    finally:
        pool.close()
    return response.status, {**body, "_headers": dict(response.headers)}
