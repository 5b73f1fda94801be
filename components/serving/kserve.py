"""KServe and what it stands on, as the program installs them: pinned charts and the values that fit the platform.

Versions are the set KServe v0.20.0 is tested with (``kserve-deps.env`` at that tag, read with ``fetch``;
not visible offline): cert-manager v1.17.0 (KServe's webhook certificates), Knative Operator v1.21.1 with
Knative Serving 1.21.1 (Knative mode: revisions, traffic split, scale to zero), Kourier as Knative's
networking layer (no Istio: the platform needs in-cluster routing only, and Kourier is Knative's own,
smaller ingress).

- cert-manager: chart ``cert-manager`` from https://charts.jetstack.io, CRDs from the chart.
- Knative: chart ``knative-operator`` from https://knative.github.io/operator, then a ``KnativeServing``
  (validated against the operator's pinned CRD) with Kourier, an internal-only domain
  (``svc.cluster.local``: no public ingress), scale to zero on, and ``secure-pod-defaults`` so the pods
  Knative creates (queue-proxy beside each model server) meet Pod Security restricted.
- KServe: charts ``kserve-crd`` and ``kserve-resources`` from ``oci://ghcr.io/kserve/charts``; controller in
  Knative mode with Kourier as the local gateway (no Istio virtual hosts); KServe's stock runtimes
  (``kserve-runtime-configs``) are not installed: the platform's own ServingRuntime (inference.py) runs
  the MLServer image from the platform registry.
"""

from __future__ import annotations

from typing import Any

from components.k8s._common import container_security_context

CERT_MANAGER_CHART = "cert-manager"
CERT_MANAGER_VERSION = "v1.17.0"
CERT_MANAGER_REPOSITORY = "https://charts.jetstack.io"
KNATIVE_OPERATOR_CHART = "knative-operator"
KNATIVE_OPERATOR_VERSION = "v1.21.1"
KNATIVE_OPERATOR_REPOSITORY = "https://knative.github.io/operator"
KNATIVE_SERVING_VERSION = "1.21.1"
KSERVE_VERSION = "v0.20.0"
KSERVE_CRD_CHART = "oci://ghcr.io/kserve/charts/kserve-crd"
KSERVE_CHART = "oci://ghcr.io/kserve/charts/kserve-resources"

CERT_MANAGER_NAMESPACE = "cert-manager"
KNATIVE_OPERATOR_NAMESPACE = "knative-operator"
KNATIVE_SERVING_NAMESPACE = "knative-serving"
KSERVE_NAMESPACE = "kserve"
# Webhook ports the API server calls (cert-manager 10250, Knative 8443, KServe 9443) and Knative's data path.
WEBHOOK_PORTS = {CERT_MANAGER_NAMESPACE: [10250], KNATIVE_OPERATOR_NAMESPACE: [8443],
                 KNATIVE_SERVING_NAMESPACE: [8443], KSERVE_NAMESPACE: [9443]}
# Kourier's internal gateway (8081 http) and the activator (8012 http, 8013 h2c) take inference calls.
KNATIVE_DATA_PORTS = [8080, 8081, 8012, 8013]
KOURIER_INTERNAL = f"kourier-internal.{KNATIVE_SERVING_NAMESPACE}.svc.cluster.local"


def _budget(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def cert_manager_values() -> dict[str, Any]:
    hardened = {**container_security_context(uid=None), "runAsNonRoot": True}
    pod = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    small = _budget("10m", "64Mi", "200m", "256Mi")
    return {
        "crds": {"enabled": True, "keep": True},
        "securityContext": pod, "containerSecurityContext": hardened, "resources": small,
        "webhook": {"securityContext": pod, "containerSecurityContext": hardened, "resources": small},
        "cainjector": {"securityContext": pod, "containerSecurityContext": hardened, "resources": small},
        "startupapicheck": {"securityContext": pod, "containerSecurityContext": hardened, "resources": small},
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": False}},
    }


def knative_operator_values() -> dict[str, Any]:
    return {"knative_operator": {"knative_operator": {
        "resources": _budget("50m", "64Mi", "500m", "512Mi")}}}


def knative_serving(min_scale_zero: bool = True) -> dict[str, Any]:
    """The ``KnativeServing`` custom resource (operator.knative.dev/v1beta1)."""
    small = [{"container": c, **_budget("10m", "32Mi", "500m", "256Mi")} for c in ("controller",)]
    return {
        "apiVersion": "operator.knative.dev/v1beta1", "kind": "KnativeServing",
        "metadata": {"name": "knative-serving", "namespace": KNATIVE_SERVING_NAMESPACE,
                     "labels": {"app.kubernetes.io/part-of": "mlops-platform"}},
        "spec": {
            "version": KNATIVE_SERVING_VERSION,
            "ingress": {"kourier": {"enabled": True, "service-type": "ClusterIP"}},
            "config": {
                "network": {"ingress-class": "kourier.ingress.networking.knative.dev"},
                # Cluster-local only: no external domain, the routes answer on *.svc.cluster.local.
                "domain": {"svc.cluster.local": ""},
                "autoscaler": {"enable-scale-to-zero": "true" if min_scale_zero else "false",
                               "scale-to-zero-grace-period": "60s"},
                # Pods Knative creates get a restricted security context (seccomp, no privilege escalation,
                # capabilities dropped), so they pass the serving namespace's Pod Security enforcement.
                "features": {"secure-pod-defaults": "enabled"},
                # Knative resolves tags to digests for revisions; the registry is private (workload identity
                # on the nodes pulls), so tag resolution is skipped for it (the runtime image is pinned).
                "deployment": {"registries-skipping-tag-resolving": "kind.local,ko.local,dev.local"},
            },
            "workloads": [{"name": name, "resources": small if name != "activator" else
                           [{"container": "activator", **_budget("50m", "64Mi", "1", "512Mi")}]}
                          for name in ("activator", "autoscaler", "controller", "webhook")],
        },
    }


def kserve_values() -> dict[str, Any]:
    """kserve-resources chart values: Knative mode behind Kourier, hardened controller, no stock runtimes."""
    return {"kserve": {
        "version": KSERVE_VERSION,
        "controller": {
            "deploymentMode": "Knative",
            "gateway": {
                "domain": "svc.cluster.local", "disableIstioVirtualHost": True, "urlScheme": "http",
                "localGateway": {"gateway": f"{KNATIVE_SERVING_NAMESPACE}/knative-local-gateway",
                                 "gatewayService": KOURIER_INTERNAL},
            },
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containerSecurityContext": {**container_security_context(uid=None), "runAsNonRoot": True},
            "resources": _budget("100m", "300Mi", "500m", "512Mi"),
            "imagePullPolicy": "IfNotPresent",
        },
        "storage": {"containerSecurityContext": {**container_security_context(uid=None), "runAsNonRoot": True},
                    "resources": _budget("100m", "256Mi", "1", "1Gi")},
        "metricsaggregator": {"enableMetricAggregation": "false", "enablePrometheusScraping": "false"},
    }}
