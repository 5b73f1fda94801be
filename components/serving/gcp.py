"""GCP: the model server reads the MLflow artifact bucket through GKE Workload Identity (no key).

A Google service account only ``serving/model-server`` may act as, with ``roles/storage.objectViewer`` on
the artifact bucket (read objects, list them; nothing else). KServe's storage initializer uses Application
Default Credentials, which the GKE metadata server answers for the pod (the baseline opens it).
"""

from __future__ import annotations

from typing import Callable

import pulumi
import pulumi_gcp as gcp

from components.serving import NAMESPACE, SERVICE_ACCOUNT
from components.serving.component import ServingIdentity


def model_server_identity(cluster, bucket_name: pulumi.Input[str]) -> Callable[[pulumi.Resource], ServingIdentity]:
    def make(parent: pulumi.Resource) -> ServingIdentity:
        child = pulumi.ResourceOptions(parent=parent)
        identity = cluster.workload_identity("model-server", NAMESPACE, SERVICE_ACCOUNT, child, account="model-server")
        gcp.storage.BucketIAMMember("model-server-artifacts", bucket=bucket_name, role="roles/storage.objectViewer",
                                    member=identity.member, opts=child)
        return ServingIdentity(annotations=dict(identity.annotations))
    return make


REQUEST_LOG_PERMISSIONS = ("storage.objects.create",)


def request_log_condition(bucket: str, key_prefix: str) -> str:
    return f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{key_prefix}")'


def request_log_identity(cluster, bucket_name: pulumi.Input[str], key_prefix: str,
                         role_id: str) -> Callable[[pulumi.Resource], ServingIdentity]:
    """A Google service account only ``serving/request-log`` may act as, holding a custom role with
    ``storage.objects.create`` alone (every predefined storage role grants more) on the features bucket, conditioned on objects under ``key_prefix``. The sink
    uploads with ``ifGenerationMatch=0``, so it never overwrites (which would need delete)."""
    from components.serving import request_log

    def make(parent: pulumi.Resource) -> ServingIdentity:
        child = pulumi.ResourceOptions(parent=parent)
        identity = cluster.workload_identity("request-log", NAMESPACE, request_log.SERVICE_ACCOUNT, child,
                                             account="request-log")
        role = gcp.projects.IAMCustomRole(
            "request-log-writer", project=cluster.project, role_id=role_id, title="Serving request log: write parts",
            permissions=list(REQUEST_LOG_PERMISSIONS),
            description="create objects only (the request log's parquet parts); no read, list or delete", opts=child)
        gcp.storage.BucketIAMMember(
            "request-log-writes", bucket=bucket_name, member=identity.member,
            role=pulumi.Output.concat("projects/", cluster.project, "/roles/", role.role_id),
            condition={"title": "request-log-prefix-only", "description": "objects under the request log's prefix",
                       "expression": pulumi.Output.from_input(bucket_name).apply(
                           lambda b: request_log_condition(b, key_prefix))}, opts=child)
        return ServingIdentity(annotations=dict(identity.annotations))
    return make
