"""The drift job in the cluster (issue 11, docs/pipelines.md "Drift monitoring"): a ``CronWorkflow`` that runs
``python -m pipelines drift`` on the recent serving inputs every hour (configurable) and pushes the
Prometheus exposition to a Pushgateway that the monitoring stack scrapes; the alert rule
(``ModelDriftDetected``) and the dashboard live with the monitoring stack (components/k8s).

Why a Pushgateway: the drift pod ends after scoring, so nothing is left to scrape; the gateway keeps the
last result per model (group ``job=mlops-drift, model=<name>``) until the next run replaces it. It holds
no state worth a volume: a restart loses the values until the next hourly run, which only delays an alert.

Plain manifests (camelCase dicts): the plan, the kubernetes pack and the CRD validation see the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.k8s import ScrapeTarget
from components.k8s._common import (InvalidInput, container_security_context, http_probe, metadata,
                                    pod_security_context, require_pinned_image)
from components.pipelines import OUTPUTS_DIR, RetrainingArgs
from components.pipelines.workflows import API_VERSION, _step, workflow_template

DRIFT_NAME = "drift"
DRIFT_LABELS = {"app.kubernetes.io/name": DRIFT_NAME, "app.kubernetes.io/component": "pipelines",
                "app.kubernetes.io/part-of": "mlops-platform"}
PUSHGATEWAY_NAME = "pushgateway"
# The Pushgateway the kube-prometheus-stack community chart prometheus-pushgateway 3.2.0 ships (appVersion
# v1.11.1); a plain Deployment here so every hardening setting is ours, not a chart default.
# Pinned by digest (docker.io/prom/pushgateway, the Prometheus project's Docker Hub repository; the same
# release is on quay.io/prometheus). Digest source, 2026-12-05: public repositories that pin
# prom/pushgateway:v1.11.1 to it (found with the code search; two independent ones agree). It could NOT be
# checked against Docker Hub's manifest from this offline machine: before a release, verify with
# `crane digest prom/pushgateway:v1.11.1` (or `docker buildx imagetools inspect`), and replace it if it differs.
PUSHGATEWAY_IMAGE = ("docker.io/prom/pushgateway:v1.11.1"
                     "@sha256:03738d278e082ee9821df730c741b3b465c251fc2b68a85883def301a55a6215")
PUSHGATEWAY_PORT = 9091
PUSHGATEWAY_UID = 65534  # the upstream image's USER nobody
PUSHGATEWAY_LABELS = {"app.kubernetes.io/name": PUSHGATEWAY_NAME, "app.kubernetes.io/component": "drift",
                      "app.kubernetes.io/part-of": "mlops-platform"}
DRIFT_DEADLINE_SECONDS = 1800
KEEP_FINISHED_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DriftArgs:
    """From ``mlops:pipelines.drift`` (stacks/config_drift.py)."""

    recent_path: pulumi.Input[str]  # parquet file or prefix of recent serving inputs, same columns as the features
    schedule: str = "0 * * * *"
    p_value: float = 0.05
    share: float = 0.5
    retrain: bool = True        # an alert starts the retraining WorkflowTemplate (events.py)


def pushgateway_url(namespace: str) -> str:
    return f"http://{PUSHGATEWAY_NAME}.{namespace}.svc.cluster.local:{PUSHGATEWAY_PORT}"


def drift_arguments(recent_path: pulumi.Input[str], pipeline: RetrainingArgs, drift: DriftArgs) -> list[str]:
    """The drift step's command line as the container runs it (after ``--outputs DIR drift``)."""
    return ["--model-name", "{{workflow.parameters.model-name}}", "--recent", recent_path,
            "--entity", pipeline.entity, "--output", f"{OUTPUTS_DIR}/drift.prom",
            "--p-value", repr(float(drift.p_value)), "--share", repr(float(drift.share)),
            "--pushgateway", pushgateway_url(pipeline.namespace)]


def drift_cron_workflow(pipeline: RetrainingArgs, drift: DriftArgs) -> dict[str, Any]:
    """The hourly drift job: same image, identity, MLflow login and pod hardening as the retraining steps
    (it reads the production model's training reference from MLflow), labelled ``drift`` so its network
    policy adds the Pushgateway to what it may reach."""
    # An Output is the stack's offline store root joined with a relative name (stacks/pipelines.py): a URI.
    if isinstance(drift.recent_path, str) and not drift.recent_path.startswith(("s3://", "gs://", "abfs://", "/")):
        raise InvalidInput(f"DriftArgs.recent_path {drift.recent_path!r} must be s3://, gs://, abfs:// or a path")
    if not 0 < drift.p_value < 1 or not 0 < drift.share <= 1:
        raise InvalidInput(f"DriftArgs p_value {drift.p_value} must be in (0, 1) and share {drift.share} in (0, 1]")
    base = workflow_template(pipeline)["spec"]  # checks the image and MLflow URL, gives the hardened pod spec
    step = _step(pipeline, DRIFT_NAME, drift_arguments(drift.recent_path, pipeline, drift), [], [])
    spec = {key: base[key] for key in ("serviceAccountName", "automountServiceAccountToken", "executor",
                                       "securityContext", "volumes", "podGC")}
    spec.update({
        "entrypoint": DRIFT_NAME,
        "arguments": {"parameters": [{"name": "model-name", "value": pipeline.model_name}]},
        # The cloud's pod labels too (Azure's workload-identity opt-in): the pod reads recentPath as the steps.
        "podMetadata": {"labels": {**pipeline.pod_labels, **DRIFT_LABELS}},
        "activeDeadlineSeconds": DRIFT_DEADLINE_SECONDS,
        "ttlStrategy": {"secondsAfterCompletion": KEEP_FINISHED_SECONDS},
        "templates": [step],
    })
    return {
        "apiVersion": API_VERSION, "kind": "CronWorkflow",
        "metadata": {"name": DRIFT_NAME, "namespace": pipeline.namespace, "labels": dict(DRIFT_LABELS)},
        "spec": {
            "schedules": [drift.schedule], "timezone": pipeline.timezone,
            # One run at a time; a run missed by more than 10 minutes waits for the next hour.
            "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 600,
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
            "workflowMetadata": {"labels": dict(DRIFT_LABELS)},
            "workflowSpec": spec,
        },
    }


def pushgateway_manifests(namespace: str, image: str = PUSHGATEWAY_IMAGE) -> list[dict[str, Any]]:
    """ServiceAccount (no token), Deployment and ClusterIP Service of the Pushgateway."""
    require_pinned_image(image, "pushgateway")
    labels = dict(PUSHGATEWAY_LABELS)
    selector = {"app.kubernetes.io/name": PUSHGATEWAY_NAME}
    container = {
        "name": PUSHGATEWAY_NAME, "image": image, "imagePullPolicy": "IfNotPresent",
        # No persistence file: the last push per model is re-sent every run (module docstring).
        "args": [f"--web.listen-address=:{PUSHGATEWAY_PORT}", "--log.format=json"],
        "ports": [{"name": "http", "containerPort": PUSHGATEWAY_PORT, "protocol": "TCP"}],
        "readinessProbe": http_probe("/-/ready", "http", 10, 3),
        "livenessProbe": http_probe("/-/healthy", "http", 20, 3),
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "securityContext": container_security_context(uid=PUSHGATEWAY_UID),
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
         "metadata": metadata(PUSHGATEWAY_NAME, namespace, labels)},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(PUSHGATEWAY_NAME, namespace, labels),
         "spec": {"replicas": 1, "revisionHistoryLimit": 3, "selector": {"matchLabels": selector},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "serviceAccountName": PUSHGATEWAY_NAME, "automountServiceAccountToken": False,
                      "securityContext": pod_security_context(PUSHGATEWAY_UID), "containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata(PUSHGATEWAY_NAME, namespace, labels),
         "spec": {"type": "ClusterIP", "selector": selector,
                  "ports": [{"name": "metrics", "port": PUSHGATEWAY_PORT, "targetPort": "http", "protocol": "TCP"}]}},
    ]


def pushgateway_scrape_target(namespace: str) -> ScrapeTarget:
    """What the stack builder adds to ``MonitoringStackArgs.scrape_targets``. ``honor_labels``: the pushed
    ``job`` and ``model`` labels are the drift job's, not the gateway's (Prometheus' advice for a Pushgateway)."""
    return ScrapeTarget(name=PUSHGATEWAY_NAME, namespace=namespace, service_labels={"app.kubernetes.io/name": PUSHGATEWAY_NAME},
                        port="metrics", interval="30s", honor_labels=True)
