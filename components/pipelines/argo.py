"""Argo Workflows as the program installs it: the pinned chart and the values that make it fit the
platform. Pure functions (the per-cloud components will register the Helm release with them; docs/pipelines.md).

- Chart ``argo-workflows`` 1.0.18 from https://argoproj.github.io/argo-helm (Argo Workflows v4.0.6),
  values checked against that tag's values.yaml (read with ``fetch``; not visible offline).
- CRDs: the chart's minimal CRDs (``crds.full: false``). The full ones are applied by a hook Job that
  downloads them from GitHub, an egress a private cluster must not need; the program validates every
  Workflow/CronWorkflow it renders against the full schemas offline instead (mlops_tools/validate).
- UI internal only: the server's Service is ClusterIP, no Ingress, ``client`` auth (a Kubernetes token
  per request; ``kubectl port-forward`` to reach it), TLS on.
- Artifact repository: the platform's object store with the SDK's default credentials, i.e. the step
  pods' workload identity; ``useStaticCredentials: false``, never an access key.
- Every Argo container: non-root, read-only root file system, no privilege escalation, requests and limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from components.k8s._common import InvalidInput, container_security_context, pod_security_context
from components.pipelines import NAMESPACE, STEP_SERVICE_ACCOUNT

ARGO_CHART = "argo-workflows"
ARGO_CHART_VERSION = "1.0.18"
ARGO_CHART_REPOSITORY = "https://argoproj.github.io/argo-helm"
ARGO_VERSION = "v4.0.6"  # the chart's appVersion; pinned explicitly so a chart bump cannot move it silently
ARGO_SERVER_PORT = 2746
ARGO_CONTROLLER_METRICS_PORT = 9090
# The Argo images run as uid 8737 (their Dockerfiles' USER argo).
ARGO_UID = 8737


@dataclass(frozen=True)
class ArtifactStore:
    """Where step artifacts (logs, outputs) go: a bucket/container of the platform's object store. Names may
    be Outputs (the per-cloud files pass the bucket's); literal values are checked here."""

    kind: Literal["s3", "gcs", "azure"]
    bucket: Any                 # S3/GCS bucket, or the Azure blob container (str or Output)
    region: str = ""            # S3 only
    endpoint: Any = ""          # S3: s3.<region>.amazonaws.com; Azure: https://<account>.blob.core.windows.net
    key_prefix: str = "argo"
    # S3: the bucket's customer-managed key. Argo sends SSE-KMS with this key; with no key but encryption
    # on it would send SSE-S3 (AES256), which the platform's bucket policy refuses (DenyNonKmsEncryption).
    kms_key_id: Any = ""


def artifact_repository(store: ArtifactStore) -> dict[str, Any]:
    """The chart's ``artifactRepository`` value: the object store through the SDK's credential chain (the
    pod's workload identity), no key or secret reference."""
    key = f"{store.key_prefix}/{{{{workflow.namespace}}}}/{{{{workflow.name}}}}/{{{{pod.name}}}}"
    if store.kind == "s3":
        if not store.region:
            raise InvalidInput("ArtifactStore.region is required for s3")
        s3: dict[str, Any] = {"bucket": store.bucket, "region": store.region,
                              "endpoint": store.endpoint or f"s3.{store.region}.amazonaws.com",
                              "insecure": False, "useSDKCreds": True, "keyFormat": key}
        # No key: no encryption header, so the bucket's default (SSE-KMS with its key) applies.
        if store.kms_key_id:
            s3["encryptionOptions"] = {"enableEncryption": True, "kmsKeyId": store.kms_key_id}
        return {"archiveLogs": True, "s3": s3}
    # The chart passes the gcs and azure sections through Helm's `tpl` (its s3 keyFormat is quoted, not
    # templated): Argo's own {{workflow.name}} must reach the ConfigMap as text, so it is a Helm string literal.
    helm_literal = '{{ "' + key + '" }}'
    if store.kind == "gcs":
        return {"archiveLogs": True, "gcs": {"bucket": store.bucket, "keyFormat": helm_literal}}
    if store.kind == "azure":
        if isinstance(store.endpoint, str) and not store.endpoint.startswith("https://"):
            raise InvalidInput(f"ArtifactStore.endpoint {store.endpoint!r} must be the account's https:// blob endpoint")
        return {"archiveLogs": True, "azure": {"endpoint": store.endpoint, "container": store.bucket,
                                                "blobNameFormat": helm_literal, "useSDKCreds": True}}
    raise InvalidInput(f"ArtifactStore.kind {store.kind!r} must be s3, gcs or azure")


def _budget(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def argo_values(store: ArtifactStore, step_identity_annotations: Mapping[str, Any],
                namespace: str = NAMESPACE) -> dict[str, Any]:
    """Chart values. ``step_identity_annotations`` bind the step pods' ServiceAccount to the cloud identity
    that may use the bucket (IRSA role ARN, Entra client id, GCP service account)."""
    hardened = container_security_context(uid=ARGO_UID)
    pod = pod_security_context(ARGO_UID)
    return {
        "images": {"tag": ARGO_VERSION, "pullPolicy": "IfNotPresent"},
        "crds": {"install": True, "keep": True, "full": False},
        "singleNamespace": False,
        "controller": {
            "workflowNamespaces": [namespace],
            "podSecurityContext": pod, "securityContext": hardened,
            "resources": _budget("100m", "256Mi", "1", "1Gi"),
            "metricsConfig": {"enabled": True, "port": ARGO_CONTROLLER_METRICS_PORT},
            "workflowDefaults": {"spec": {"serviceAccountName": STEP_SERVICE_ACCOUNT,
                                          "automountServiceAccountToken": False,
                                          "executor": {"serviceAccountName": STEP_SERVICE_ACCOUNT}}},
        },
        "mainContainer": {"resources": _budget("250m", "512Mi", "2", "4Gi"), "securityContext": hardened},
        "executor": {"resources": _budget("50m", "64Mi", "500m", "256Mi"), "securityContext": hardened},
        "server": {
            "enabled": True, "serviceType": "ClusterIP", "ingress": {"enabled": False},
            "authModes": ["client"], "secure": True,
            "podSecurityContext": pod, "securityContext": {**hardened, "readOnlyRootFilesystem": True},
            "resources": _budget("50m", "128Mi", "500m", "512Mi"),
        },
        "workflow": {
            "serviceAccount": {"create": True, "name": STEP_SERVICE_ACCOUNT,
                               "annotations": dict(step_identity_annotations)},
            "rbac": {"create": True},
        },
        "useStaticCredentials": False,
        "artifactRepository": artifact_repository(store),
    }
