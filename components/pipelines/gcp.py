"""The retraining pipeline on GCP: the steps' Google service account and the artifact repository in the
platform's artifacts bucket (``argo/`` prefix).

The service account (``roles/iam.workloadIdentityUser`` for ``pipelines/pipeline-steps`` only) holds two
conditional bucket grants (tests/smoke/test_iam_models.py checks them against Google's published role
definitions with the conditions applied, both ways):

- ``roles/storage.objectUser`` on the artifacts bucket, only for objects under ``argo/`` (and the bucket
  itself, where object listing is checked: Argo's GCS driver lists a key's prefix before it downloads):
  step logs and the training frame; MLflow's ``mlflow/`` objects cannot be read, written or deleted;
- ``roles/storage.objectViewer`` on the features bucket, only under ``offline/`` and ``registry/``, and
  ``roles/storage.legacyBucketReader`` there (storage.buckets.get, which Feast's GCS registry store calls
  first, is in neither objectViewer nor objectUser; its storage.objects.list is bucket-wide anyway).

The buckets' objects are encrypted by the Cloud Storage agent with the buckets' keys: no KMS role here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.features import OFFLINE_PREFIX, REGISTRY_PREFIX
from components.features.gcp import BUCKET_METADATA_READER
from components.k8s import IdentityEndpoint
from components.pipelines import ARTIFACT_PREFIX, NAMESPACE, STEP_SERVICE_ACCOUNT, RetrainingArgs
from components.pipelines.argo import ArtifactStore
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs
from components.training.gcp import prefix_grant


@dataclass(frozen=True)
class GcpPipelineInputs:
    cluster: "pulumi.Resource"  # components.cluster.gcp.Cluster (workload_identity(), identity_endpoints)
    artifacts_bucket: pulumi.Input[str]
    features_bucket: pulumi.Input[str]
    feature_prefixes: Sequence[str] = (OFFLINE_PREFIX, REGISTRY_PREFIX)


class StepIdentity(pulumi.ComponentResource):
    """The Google service account of ``pipelines/pipeline-steps`` and its bucket grants."""

    def __init__(self, name: str, inputs: GcpPipelineInputs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:pipelines:StepIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = inputs.cluster.workload_identity(f"{name}-steps", NAMESPACE, STEP_SERVICE_ACCOUNT, child,
                                                    account="pipelines")
        self.grants = [
            prefix_grant(f"{name}-artifacts", inputs.artifacts_bucket, "roles/storage.objectUser", identity.member,
                         [ARTIFACT_PREFIX], "argo-artifacts", "workflow artifacts under argo/ only", child),
            prefix_grant(f"{name}-features", inputs.features_bucket, "roles/storage.objectViewer", identity.member,
                         inputs.feature_prefixes, "feast-offline-and-registry",
                         "Feast offline store and registry, read-only", child),
            gcp.storage.BucketIAMMember(f"{name}-features-bucket-get", bucket=inputs.features_bucket,
                                        role=BUCKET_METADATA_READER, member=identity.member, opts=child),
        ]
        self.email = identity.email
        self.annotations = identity.annotations
        self.register_outputs({"email": identity.email})


def retraining_pipeline(name: str, retraining: RetrainingArgs, environment: str, inputs: GcpPipelineInputs,
                        opts: pulumi.ResourceOptions, k8s_opts: pulumi.ResourceOptions,
                        identity_endpoints: Sequence[IdentityEndpoint] = ()) -> RetrainingPipeline:
    identity = StepIdentity(f"{name}-identity", inputs, opts=opts)
    store = ArtifactStore("gcs", inputs.artifacts_bucket, key_prefix=ARTIFACT_PREFIX)
    return RetrainingPipeline(name, RetrainingPipelineArgs(
        retraining=retraining, artifact_store=store, step_identity_annotations=identity.annotations,
        environment=environment, identity_endpoints=identity_endpoints, depends_on=[*identity.grants]), opts=k8s_opts)
