"""TLS for the front door: cert-manager (pinned chart) with a private CA of the platform's own.

Why a private CA and not the cloud's managed certificates: the UI hostnames live in a private zone
(``*.internal`` by default), which no public CA will sign, and the front door terminates TLS in the
cluster (behind an L4 load balancer), so the certificate must be a Kubernetes Secret on every cloud.
ACM private certificates need an AWS Private CA (billed per CA per month) and could not be mounted in a
pod anyway; Azure/GCP managed certificates only attach to their L7 load balancers.

- cert-manager ``v1.21.1`` (chart from charts.jetstack.io, CRDs from the chart, kept on uninstall).
- The CA: a self-signed bootstrap ClusterIssuer signs one CA certificate (ECDSA P-256, 10 years, in the
  cert-manager namespace); the ``platform-ca`` ClusterIssuer signs with it. Clients trust that CA: export
  it with ``kubectl -n cert-manager get secret platform-ca -o jsonpath='{.data.ca\\.crt}'`` (docs/access.md).
- The front door's certificate: every UI hostname as a DNS SAN, 90 days, renewed 15 days before expiry,
  a new key on each renewal.

Every custom resource here is validated against the pinned CRDs (mlops_tools/validate/crd_schemas).
"""

from __future__ import annotations

from typing import Any

from components.k8s import ResourceBudget
from components.k8s._common import resources

CHART = "cert-manager"
CHART_VERSION = "v1.21.1"
CHART_REPOSITORY = "https://charts.jetstack.io"
NAMESPACE = "cert-manager"
BOOTSTRAP_ISSUER = "platform-ca-bootstrap"
CA_ISSUER = "platform-ca"
CA_SECRET = "platform-ca"
API = "cert-manager.io/v1"
_LABELS = {"app.kubernetes.io/part-of": "mlops-platform", "app.kubernetes.io/component": "front-door"}


def _budget(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return resources(ResourceBudget(cpu, memory, cpu_limit, memory_limit))


def chart_values(environment: str) -> dict[str, Any]:
    """cert-manager's values: CRDs from the chart (kept), two controller replicas outside dev, limits on
    every container (the chart's pods already run non-root with a read-only root file system)."""
    replicas = 1 if environment == "dev" else 2
    return {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": replicas,
        "podDisruptionBudget": {"enabled": replicas > 1},
        "resources": _budget("50m", "128Mi", "500m", "512Mi"),
        "webhook": {"replicaCount": replicas, "podDisruptionBudget": {"enabled": replicas > 1},
                    "resources": _budget("20m", "64Mi", "200m", "256Mi")},
        "cainjector": {"replicaCount": 1, "resources": _budget("20m", "128Mi", "200m", "512Mi")},
        "startupapicheck": {"resources": _budget("10m", "32Mi", "100m", "128Mi")},
    }


def ca_manifests(platform: str) -> list[dict[str, Any]]:
    """Bootstrap issuer, the CA certificate it signs, and the ClusterIssuer that signs with the CA."""
    return [
        {"apiVersion": API, "kind": "ClusterIssuer", "metadata": {"name": BOOTSTRAP_ISSUER, "labels": dict(_LABELS)},
         "spec": {"selfSigned": {}}},
        {"apiVersion": API, "kind": "Certificate",
         "metadata": {"name": CA_SECRET, "namespace": NAMESPACE, "labels": dict(_LABELS)},
         "spec": {"isCA": True, "commonName": f"{platform} platform CA", "secretName": CA_SECRET,
                  "duration": "87600h", "renewBefore": "720h",
                  "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"},
                  "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": BOOTSTRAP_ISSUER}}},
        {"apiVersion": API, "kind": "ClusterIssuer", "metadata": {"name": CA_ISSUER, "labels": dict(_LABELS)},
         "spec": {"ca": {"secretName": CA_SECRET}}},
    ]


def server_certificate(name: str, namespace: str, secret: str, hostnames: list[str]) -> dict[str, Any]:
    if not hostnames:
        raise ValueError("the front door's certificate needs at least one hostname")
    return {"apiVersion": API, "kind": "Certificate", "metadata": {"name": name, "namespace": namespace, "labels": dict(_LABELS)},
            "spec": {"secretName": secret, "dnsNames": sorted(hostnames), "duration": "2160h", "renewBefore": "360h",
                     "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                     "usages": ["server auth", "digital signature"],
                     "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": CA_ISSUER}}}
