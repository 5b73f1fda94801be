"""Azure: the model server reads the MLflow artifact container through Entra workload identity (no key).

A user-assigned identity federated with ``system:serviceaccount:serving:model-server`` only, granted
``Storage Blob Data Reader`` on the artifact container (not the account). The pods carry the
``azure.workload.identity/use`` label so AKS's webhook injects the token; KServe's storage initializer
reads ``https://<account>.blob.core.windows.net/<container>/...`` with ``DefaultAzureCredential``.
"""

from __future__ import annotations

from typing import Callable

import pulumi

from components.cluster.azure import CLIENT_ID_ANNOTATION
from components.serving import NAMESPACE, SERVICE_ACCOUNT
from components.serving.component import ServingIdentity
from components.storage.azure import STORAGE_BLOB_DATA_READER, grant

WORKLOAD_IDENTITY_POD_LABELS = {"azure.workload.identity/use": "true"}


def model_server_identity(cluster, artifact_container_id: pulumi.Input[str]) -> Callable[[pulumi.Resource], ServingIdentity]:
    def make(parent: pulumi.Resource) -> ServingIdentity:
        child = pulumi.ResourceOptions(parent=parent)
        identity = cluster.workload_identity("model-server", NAMESPACE, SERVICE_ACCOUNT, child)
        grant("model-server-artifacts", scope=artifact_container_id, role_guid=STORAGE_BLOB_DATA_READER,
              principal_id=identity.principal_id, opts=child,
              description="model servers read MLflow model artifacts from their container only")
        return ServingIdentity(annotations={CLIENT_ID_ANNOTATION: identity.client_id},
                               pod_labels=dict(WORKLOAD_IDENTITY_POD_LABELS))
    return make


def request_log_identity(cluster, features_container_id: pulumi.Input[str],
                         blob_prefix: str) -> Callable[[pulumi.Resource], ServingIdentity]:
    """The sink's identity, federated with ``serving/request-log`` only: ``Storage Blob Data Contributor`` on the
    Feast container, confined by an ABAC condition to blobs under ``blob_prefix`` (the log's prefix of the
    offline store). Azure has no built-in write-only blob role, so within its own prefix it could also read
    and delete its parts; outside it, nothing but listing names (the condition's documented shape)."""
    from components.serving import request_log
    from components.storage.azure import STORAGE_BLOB_DATA_CONTRIBUTOR, blob_prefix_condition

    def make(parent: pulumi.Resource) -> ServingIdentity:
        child = pulumi.ResourceOptions(parent=parent)
        identity = cluster.workload_identity("request-log", NAMESPACE, request_log.SERVICE_ACCOUNT, child)
        grant("request-log-writes", scope=features_container_id, role_guid=STORAGE_BLOB_DATA_CONTRIBUTOR,
              principal_id=identity.principal_id, opts=child, condition=blob_prefix_condition(blob_prefix.rstrip("/")),
              description="the serving request log writes its parquet parts under its prefix of the offline store only")
        return ServingIdentity(annotations={CLIENT_ID_ANNOTATION: identity.client_id},
                               pod_labels=dict(WORKLOAD_IDENTITY_POD_LABELS))
    return make
