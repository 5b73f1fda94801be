"""What serves the model: the platform's ServingRuntime (MLServer + mlserver-mlflow from the platform
registry), the InferenceService, the PodMonitor that lets Prometheus see each version, and the model
server's ServiceAccount. Plain manifests (camelCase dicts), validated against the pinned KServe v0.20.0 and
prometheus-operator v0.85.0 CRDs (mlops_tools/validate/crd_schemas).

- ServingRuntime ``mlflow-mlserver``: the image from ``images/mlserver`` (same pins as the smoke venv,
  ``mlops_tools/smoke/requirements/mlserver.txt``), MLServer configured through its environment exactly as
  KServe's own MLServer runtime does (ports 8080/9000, the model in ``/mnt/models`` where KServe's storage
  initializer puts it) plus the MLflow implementation, a writable ``/tmp`` (root file system read-only) and
  the metrics port 8082. Knative allows one declared container port, so the metrics port is not declared:
  the PodMonitor scrapes it by number.
- InferenceService: ``modelFormat: mlflow``, ``protocolVersion: v2``, Knative mode; ``minReplicas: 0``
  scales an idle model to zero. Rendered by the program only when the config names a first version
  (``storageUri``); otherwise the canary rollout creates it from this same rendering with its version's URI
  (rollout.py), and later versions are rolled out by patching ``storageUri``, the version label and
  ``canaryTrafficPercent`` (the program ignores those fields after creation, component.py). With the request
  log on, ``predictor.logger`` sends every request and response to its sink (request_log.py).
"""

from __future__ import annotations

from typing import Any, Optional

from components.k8s import PRIORITY_SERVING
from components.k8s._common import (WORKLOAD_UID, InvalidInput, container_security_context, pod_security_context,
                                    require_pinned_image, resources)
from components.serving import request_log
from components.serving import (GRPC_PORT, HTTP_PORT, METRICS_PORT, RUNTIME_NAME, SERVICE_ACCOUNT, VERSION_LABEL,
                                VERSION_METRIC_LABEL, ServingArgs)

MODEL_DIR = "/mnt/models"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
SERVICE_METRIC_LABEL = "inference_service"
LABELS = {"app.kubernetes.io/part-of": "mlops-platform", "app.kubernetes.io/component": "serving"}
STORAGE_SCHEMES = {"s3": ("s3://",), "gcs": ("gs://",), "azure": ("https://",)}


def _meta_label(label: str) -> str:
    """Prometheus' Kubernetes SD name of a pod label (every character outside [a-zA-Z0-9_] becomes _)."""
    return "__meta_kubernetes_pod_label_" + "".join(c if c.isalnum() or c == "_" else "_" for c in label)


def runtime_env(service_placeholder: str = "{{.Name}}") -> dict[str, str]:
    """MLServer's settings (its MLSERVER_* environment); ``{{.Name}}`` is KServe's placeholder for the
    InferenceService name, which MLServer serves the model under."""
    return {
        "MLSERVER_HTTP_PORT": str(HTTP_PORT), "MLSERVER_GRPC_PORT": str(GRPC_PORT),
        "MLSERVER_METRICS_PORT": str(METRICS_PORT), "MLSERVER_METRICS_DIR": "/tmp/mlserver-metrics",
        # Inference in the server process: MLServer 1.7.1's worker processes die at start with the uvloop its
        # pins resolve to (no implicit event loop; found by make smoke), and one model per pod gains nothing
        # from a worker pool: Knative scales pods instead.
        "MLSERVER_PARALLEL_WORKERS": "0",
        "MLSERVER_MODEL_NAME": service_placeholder, "MLSERVER_MODEL_URI": MODEL_DIR,
        "MLSERVER_MODEL_IMPLEMENTATION": "mlserver_mlflow.MLflowRuntime",
        "HOME": "/tmp", "MODELS_DIR": MODEL_DIR,
    }


def runtime_command() -> list[str]:
    return ["mlserver", "start", MODEL_DIR]


def serving_runtime(args: ServingArgs) -> dict[str, Any]:
    require_pinned_image(args.runtime_image, "serving runtime")
    return {
        "apiVersion": "serving.kserve.io/v1alpha1", "kind": "ServingRuntime",
        "metadata": {"name": RUNTIME_NAME, "namespace": args.namespace, "labels": dict(LABELS),
                     "annotations": {"serving.kserve.io/server-type": "mlserver"}},
        "spec": {
            "supportedModelFormats": [{"name": "mlflow", "version": "2", "autoSelect": True, "priority": 1},
                                      {"name": "mlflow", "version": "3", "autoSelect": True, "priority": 1}],
            "protocolVersions": ["v2"],
            "multiModel": False,
            "containers": [{
                "name": "kserve-container", "image": args.runtime_image, "imagePullPolicy": "IfNotPresent",
                "command": runtime_command(),
                "env": [{"name": k, "value": v} for k, v in sorted(runtime_env().items())],
                "ports": [{"name": "http1", "containerPort": HTTP_PORT, "protocol": "TCP"}],
                "resources": resources(args.budget),
                "securityContext": container_security_context(),
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        },
    }


def check_storage_uri(args: ServingArgs) -> None:
    schemes = STORAGE_SCHEMES[args.storage.kind]
    if args.storage_uri is None:
        raise InvalidInput("ServingArgs.storage_uri is not set: no first model version to serve (the canary "
                           "rollout creates the InferenceService when it rolls out the first promoted version)")
    if not args.storage_uri.startswith(schemes) or (args.storage.kind == "azure"
                                                     and ".blob.core.windows.net/" not in args.storage_uri):
        raise InvalidInput(f"ServingArgs.storage_uri {args.storage_uri!r} must start with {' or '.join(schemes)}"
                           + (" and name a blob.core.windows.net container" if args.storage.kind == "azure" else ""))


def inference_service(args: ServingArgs, storage_uri: Optional[str] = None,
                      model_version: Optional[str] = None) -> dict[str, Any]:
    """The InferenceService serving ``args.storage_uri`` (checked against the cloud's store), or the given
    ``storage_uri``/``model_version`` as they are: the canary rollout passes its Argo parameters here."""
    if storage_uri is None:
        check_storage_uri(args)
    if not 0 <= args.min_replicas <= args.max_replicas:
        raise InvalidInput(f"ServingArgs: minReplicas {args.min_replicas} must be between 0 and maxReplicas {args.max_replicas}")
    return {
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": args.inference_service, "namespace": args.namespace, "labels": dict(LABELS),
                     "annotations": {"serving.kserve.io/deploymentMode": "Knative",
                                     "mlops.dev/registered-model": args.model_name}},
        "spec": {"predictor": {
            "serviceAccountName": SERVICE_ACCOUNT,
            "automountServiceAccountToken": False,
            "priorityClassName": PRIORITY_SERVING,
            "minReplicas": args.min_replicas, "maxReplicas": args.max_replicas,
            "labels": {VERSION_LABEL: model_version or args.model_version, **dict(args.identity_pod_labels)},
            "securityContext": pod_security_context(WORKLOAD_UID),
            "model": {
                "modelFormat": {"name": "mlflow"}, "protocolVersion": "v2", "runtime": RUNTIME_NAME,
                "storageUri": storage_uri or args.storage_uri,
                "resources": resources(args.budget),
                "securityContext": container_security_context(),
            },
            # KServe's agent in each predictor pod sends requests and responses to the request log sink.
            **({"logger": request_log.logger_spec(args.namespace)} if args.request_log is not None else {}),
        }},
    }


def pod_monitor(args: ServingArgs) -> dict[str, Any]:
    """Scrapes MLServer's metrics port on every predictor pod of the service, with the pod's model version
    and service name as the labels the canary analysis selects on."""
    return {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
        "metadata": {"name": args.inference_service, "namespace": args.namespace, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": {ISVC_LABEL: args.inference_service}},
            "podMetricsEndpoints": [{
                "portNumber": METRICS_PORT, "path": "/metrics", "interval": "15s",
                "relabelings": [
                    {"sourceLabels": [_meta_label(VERSION_LABEL)], "targetLabel": VERSION_METRIC_LABEL, "action": "replace"},
                    {"sourceLabels": [_meta_label(ISVC_LABEL)], "targetLabel": SERVICE_METRIC_LABEL, "action": "replace"},
                ],
            }],
        },
    }


def service_account(args: ServingArgs) -> dict[str, Any]:
    """ServiceAccount ``model-server``: the cloud identity (annotations) and KServe's storage settings."""
    return {"metadata": {"name": SERVICE_ACCOUNT, "namespace": args.namespace, "labels": dict(LABELS),
                         "annotations": {**args.storage.service_account_annotations(),
                                         **dict(args.identity_annotations)}},
            "automount_service_account_token": False}
