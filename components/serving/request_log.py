"""The serving request log (issue 11): what fills the drift job's ``recentPath``.

The InferenceService's predictor ``logger`` (KServe v0.20.0 ``LoggerSpec``: ``mode: all``, ``url``) makes
KServe's agent in every predictor pod send each request and each successful response as a CloudEvent to
``request-log`` in the serving namespace: ``python -m pipelines request-log`` in the step image
(``pipelines/request_log_server.py`` says why not a kept tool), which pairs the two events and writes
parquet parts of the inputs and predictions under ``recentPath``, in the layout the drift job reads.

- Identity: ServiceAccount ``request-log`` bound to a cloud identity (``aws.py``/``azure.py``/``gcp.py``)
  that may create objects under that prefix of the offline store and do nothing else.
- Hardening: non-root (the image's uid), read-only root, no privilege escalation, no SA token, limits,
  priority ``serving``, ``terminationGracePeriodSeconds`` long enough to write the last part on SIGTERM.
- Network (on top of the serving namespace's default deny + DNS; the baseline's ``workloads`` policy leaves
  these pods out): ingress only from the InferenceService's predictor pods on the sink port, egress only
  HTTPS (the object store's endpoint and the cloud's token endpoint; their addresses are the cloud's, not
  visible offline); the predictor pods get egress to the sink port.
- ``sessionAffinity: ClientIP``: the request and response events of one predictor pod reach the same sink
  replica, so they pair even with several replicas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pulumi

from components.k8s import PRIORITY_SERVING, REQUEST_LOG_APP, ResourceBudget
from components.k8s._common import (WORKLOAD_UID, InvalidInput, check_no_literal_credentials, container_security_context, http_probe, literal_env,
                                    metadata, pod_security_context, require_pinned_image, resources, tcp_ports,
                                    writable_dir)

NAME = REQUEST_LOG_APP  # the baseline's serving "workloads" policy leaves these pods out
SERVICE_ACCOUNT = NAME
PORT = 8080
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "serving",
          "app.kubernetes.io/part-of": "mlops-platform"}
SELECTOR = {"app.kubernetes.io/name": NAME}
ISVC_LABEL = "serving.kserve.io/inferenceservice"  # KServe's label on the predictor pods
BUDGET = ResourceBudget("50m", "128Mi", "500m", "512Mi")
GRACE_SECONDS = 60  # SIGTERM -> settle pending events and write the last part
_SCHEMES = ("s3://", "gs://", "abfs://")


@dataclass(frozen=True)
class RequestLogArgs:
    """From ``mlops:serving.requestLog`` and the drift job's ``recentPath`` (resolved to a URI)."""

    image: str                          # the step image (pipelines/Dockerfile), pinned
    output: pulumi.Input[str]           # the prefix the parts go under: the drift job's recentPath
    entity: str                         # the entity column the drift job expects
    flush_rows: int = 5000
    flush_seconds: int = 300
    max_pending: int = 2000
    replicas: int = 1
    extra_env: Mapping[str, str] = field(default_factory=dict)  # AWS_REGION; never credentials
    identity_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    identity_pod_labels: Mapping[str, str] = field(default_factory=dict)


def url(namespace: str) -> str:
    return f"http://{NAME}.{namespace}.svc.cluster.local:{PORT}/"


def logger_spec(namespace: str) -> dict[str, Any]:
    """``spec.predictor.logger``: every request and every successful response, to the sink."""
    return {"mode": "all", "url": url(namespace)}


def check(args: RequestLogArgs) -> None:
    require_pinned_image(args.image, "request log")
    if isinstance(args.output, str) and not (args.output.startswith(_SCHEMES) and args.output.endswith("/")):
        raise InvalidInput(f"RequestLogArgs.output {args.output!r} must be an s3://, gs:// or abfs:// prefix ending in '/'")
    if args.flush_rows < 1 or args.flush_seconds < 1 or args.max_pending < 1 or args.replicas < 1:
        raise InvalidInput("RequestLogArgs: flush_rows, flush_seconds, max_pending and replicas must be at least 1")
    check_no_literal_credentials(args.extra_env, "RequestLogArgs.extra_env")  # workload identity, never keys


def arguments(args: RequestLogArgs) -> list[Any]:
    return ["request-log", "--output", args.output, "--entity", args.entity, "--port", str(PORT),
            "--flush-rows", str(args.flush_rows), "--flush-seconds", str(args.flush_seconds),
            "--max-pending", str(args.max_pending)]


def manifests(args: RequestLogArgs, namespace: str) -> list[dict[str, Any]]:
    """ServiceAccount (the cloud identity), Deployment and ClusterIP Service of the sink."""
    check(args)
    pod_labels = {**LABELS, **dict(args.identity_pod_labels)}
    container = {
        "name": NAME, "image": args.image, "imagePullPolicy": "IfNotPresent", "args": arguments(args),
        "env": literal_env({**dict(args.extra_env), "HOME": "/tmp"}),
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": http_probe("/healthz", "http", 10, 3),
        "livenessProbe": http_probe("/healthz", "http", 20, 3),
        "resources": resources(BUDGET),
        "securityContext": container_security_context(uid=WORKLOAD_UID),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
         "metadata": metadata(SERVICE_ACCOUNT, namespace, LABELS, dict(args.identity_annotations))},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(NAME, namespace, LABELS),
         "spec": {"replicas": args.replicas, "revisionHistoryLimit": 3, "selector": {"matchLabels": dict(SELECTOR)},
                  "template": {"metadata": {"labels": pod_labels}, "spec": {
                      "serviceAccountName": SERVICE_ACCOUNT, "automountServiceAccountToken": False,
                      "priorityClassName": PRIORITY_SERVING, "terminationGracePeriodSeconds": GRACE_SECONDS,
                      "securityContext": pod_security_context(WORKLOAD_UID), "containers": [container],
                      "volumes": [writable_dir("tmp", "64Mi")]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata(NAME, namespace, LABELS),
         "spec": {"type": "ClusterIP", "selector": dict(SELECTOR), "sessionAffinity": "ClientIP",
                  "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]}},
    ]


def network_policies(namespace: str, inference_service: str) -> list[dict[str, Any]]:
    predictors = {"podSelector": {"matchLabels": {ISVC_LABEL: inference_service}}}
    part_of = {"app.kubernetes.io/part-of": "mlops-platform"}
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": metadata(NAME, namespace, part_of),
         "spec": {"podSelector": {"matchLabels": dict(SELECTOR)}, "policyTypes": ["Ingress", "Egress"],
                  "ingress": [{"from": [predictors], "ports": tcp_ports([PORT])}],
                  "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": metadata(f"{inference_service}-to-{NAME}", namespace, part_of),
         "spec": {"podSelector": {"matchLabels": {ISVC_LABEL: inference_service}}, "policyTypes": ["Egress"],
                  "egress": [{"to": [{"podSelector": {"matchLabels": dict(SELECTOR)}}], "ports": tcp_ports([PORT])}]}},
    ]
