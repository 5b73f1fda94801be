"""NetworkPolicies of the serving install, on top of default deny + DNS in each namespace.

The ``serving`` namespace itself is the cluster baseline's (Pod Security restricted, default deny, DNS,
ingress from inside the cluster and the private network, egress to the platform services and HTTPS): the
storage initializer fetches the model over HTTPS with the pod's workload identity, MLServer needs nothing
else. What this file adds:

- operator namespaces (cert-manager, knative-operator, knative-serving, kserve): default deny + DNS; the
  API server (private network, 443/6443) and the webhook port each one serves (called by the API server from
  the private network); scraped from ``monitoring``.
- ``knative-serving`` data path: Kourier and the activator take inference calls from any namespace and the
  private network on their ports, and reach the model servers in ``serving``; the controller resolves
  image digests from registries (HTTPS).
- ``pipelines``: the canary rollout pods reach MLflow, Prometheus (9090) and the API server (443); and
  ``monitoring`` lets exactly those pods query Prometheus.
"""

from __future__ import annotations

from typing import Any, Sequence

from components.k8s import MLFLOW_NAME, MLFLOW_PORT, MONITORING_NAMESPACE, PLATFORM_NAMESPACE
from components.k8s._common import KUBE_DNS, from_cidrs, from_namespaces, tcp_ports
from components.serving import NAMESPACE
from components.serving.kserve import KNATIVE_DATA_PORTS, KNATIVE_SERVING_NAMESPACE, WEBHOOK_PORTS

PROMETHEUS_PORT = 9090
PROMETHEUS_SELECTOR = {"app.kubernetes.io/name": "prometheus"}
ROLLOUT_LABELS = {"app.kubernetes.io/name": "canary-rollout"}
_PART_OF = {"app.kubernetes.io/part-of": "mlops-platform"}
_ANYWHERE_HTTPS = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])}


def _policy(name: str, namespace: str, selector: dict[str, str], ingress: list, egress: list,
            types: Sequence[str] = ("Ingress", "Egress")) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": selector} if selector else {}, "policyTypes": list(types)}
    if "Ingress" in types:
        spec["ingress"] = ingress
    if "Egress" in types:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(_PART_OF)}, "spec": spec}


def baseline(namespace: str) -> list[dict[str, Any]]:
    return [_policy("default-deny", namespace, {}, [], []),
            _policy("allow-dns", namespace, {}, [], [{"to": [KUBE_DNS], "ports": [
                {"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}], types=("Egress",))]


def operator_policies(private_cidrs: Sequence[Any]) -> list[dict[str, Any]]:
    """Each operator namespace: default deny + DNS + its API-server and webhook traffic (+ Knative's data path)."""
    api_server = {"to": from_cidrs(private_cidrs), "ports": tcp_ports([443, 6443])}
    scraped = {"from": from_namespaces([MONITORING_NAMESPACE])}
    policies = []
    for namespace, ports in sorted(WEBHOOK_PORTS.items()):
        ingress = [{"from": from_cidrs(private_cidrs), "ports": tcp_ports(ports)}, scraped]
        # The managed control plane's address is the cloud's (not visible offline); inside the cluster it is
        # the kubernetes Service, whose endpoints are on the private network or, on some clouds, public: 443.
        egress = [api_server, _ANYWHERE_HTTPS]
        if namespace == KNATIVE_SERVING_NAMESPACE:
            ingress += [{"from": [{"namespaceSelector": {}}] + from_cidrs(private_cidrs),
                         "ports": tcp_ports(KNATIVE_DATA_PORTS)}, {"from": [{"podSelector": {}}]}]
            egress += [{"to": from_namespaces([NAMESPACE])}, {"to": [{"podSelector": {}}]}]
        policies += baseline(namespace)
        policies.append(_policy(namespace, namespace, {}, ingress, egress))
    return policies


def rollout_policies(pipelines_namespace: str) -> list[dict[str, Any]]:
    """The canary rollout pods (pipelines) -> MLflow, Prometheus, API server; Prometheus <- those pods only."""
    mlflow = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PLATFORM_NAMESPACE}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": MLFLOW_NAME}}}],
              "ports": tcp_ports([MLFLOW_PORT])}
    prometheus = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}},
                          "podSelector": {"matchLabels": PROMETHEUS_SELECTOR}}], "ports": tcp_ports([PROMETHEUS_PORT])}
    from_rollout = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": pipelines_namespace}},
                              "podSelector": {"matchLabels": ROLLOUT_LABELS}}], "ports": tcp_ports([PROMETHEUS_PORT])}
    return [_policy("canary-rollout", pipelines_namespace, ROLLOUT_LABELS, [], [mlflow, prometheus, _ANYWHERE_HTTPS]),
            _policy("prometheus-from-canary-rollout", MONITORING_NAMESPACE, PROMETHEUS_SELECTOR, [from_rollout], [],
                    types=("Ingress",))]
