"""NetworkPolicies of the pipelines namespace, on top of its default deny (ingress and egress) and DNS:
each piece reaches exactly what it needs.

- step pods (``app.kubernetes.io/name: retraining``): MLflow in the platform namespace on its port, and
  HTTPS (443) for the object store (features, artifacts) and the cloud's identity endpoint. No ingress.
- workflow controller (chart label ``app.kubernetes.io/component: workflow-controller``): the Kubernetes
  API (HTTPS 443; the managed control plane's address is the cloud's, not visible offline); scraped by
  Prometheus from the monitoring namespace on its metrics port.
- Argo server (``app.kubernetes.io/component: server``): the Kubernetes API; no ingress rule (users reach
  the UI with ``kubectl port-forward``, which the kubelet carries; whether a CNI applies policies to that
  path is the CNI's choice and not visible offline).
"""

from __future__ import annotations

from typing import Any

from components.k8s import MLFLOW_NAME, MLFLOW_PORT, MONITORING_NAMESPACE, PLATFORM_NAMESPACE
from components.k8s._common import KUBE_DNS, from_namespaces, tcp_ports
from components.pipelines import NAMESPACE
from components.pipelines.argo import ARGO_CONTROLLER_METRICS_PORT
from components.pipelines.workflows import LABELS as STEP_LABELS

_HTTPS_OUT = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])}
_COMPONENT = "app.kubernetes.io/component"


def _policy(name: str, selector: dict[str, str], ingress: list[dict[str, Any]], egress: list[dict[str, Any]],
            namespace: str) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "mlops-platform"}},
            "spec": {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress", "Egress"],
                     "ingress": ingress, "egress": egress}}


def baseline_policies(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Default deny (ingress and egress) and DNS for every pod, as the cluster baseline gives its namespaces."""
    labels = {"app.kubernetes.io/part-of": "mlops-platform"}
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "default-deny", "namespace": namespace, "labels": labels},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "allow-dns", "namespace": namespace, "labels": labels},
         "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                  "egress": [{"to": [KUBE_DNS], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}},
    ]


def network_policies(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    mlflow = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PLATFORM_NAMESPACE}},
                      "podSelector": {"matchLabels": {"app.kubernetes.io/name": MLFLOW_NAME}}}],
              "ports": tcp_ports([MLFLOW_PORT])}
    scraped = {"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports([ARGO_CONTROLLER_METRICS_PORT])}
    return [
        _policy("retraining-steps", {"app.kubernetes.io/name": STEP_LABELS["app.kubernetes.io/name"]}, [],
                [mlflow, _HTTPS_OUT], namespace),
        _policy("workflow-controller", {_COMPONENT: "workflow-controller"}, [scraped], [_HTTPS_OUT], namespace),
        _policy("argo-server", {_COMPONENT: "server"}, [], [_HTTPS_OUT], namespace),
    ]
