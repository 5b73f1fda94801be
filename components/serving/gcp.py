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
