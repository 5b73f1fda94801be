"""The retraining pipeline on AWS: the steps' IRSA role and the artifact repository in the platform's
artifacts bucket (``argo/`` prefix, SSE-KMS with the artifacts key).

What the role may do, and why (everything else is denied; tests/smoke/test_iam_aws.py proves both ways
on moto's server with AWS's decision rules):

- read the Feast offline store and registry (``offline/``, ``registry/`` of the features bucket): the
  ``features`` step reads the registry and the offline files through Feast; HeadBucket (ListBucket with
  no ``s3:prefix``) is how Feast's S3 registry store opens; decrypt with the features key through S3 only;
- read and write ``argo/`` of the artifacts bucket (step logs, the training frame between ``features`` and
  ``train``), list only under it; encrypt/decrypt with the artifacts key through S3 only. No delete: the
  bucket's lifecycle rules expire old objects, and MLflow's ``mlflow/`` objects (the model registry's
  artifacts) are out of reach.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi

from components.aws_iam import kms_via_service, s3_find_bucket, s3_list, s3_objects
from components.features import OFFLINE_PREFIX, REGISTRY_PREFIX
from components.pipelines import ARTIFACT_PREFIX, NAMESPACE, STEP_SERVICE_ACCOUNT, RetrainingArgs
from components.pipelines.argo import ArtifactStore
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs
from components.pipelines.ui_sso import PipelineUiSso

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class AwsPipelineInputs:
    cluster: "pulumi.Resource"  # components.cluster.aws.Cluster (irsa_role())
    region: str
    artifacts_bucket: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    artifacts_key_arn: pulumi.Input[str]
    features_bucket_arn: pulumi.Input[str]
    features_key_arn: pulumi.Input[str]
    feature_prefixes: Sequence[str] = (OFFLINE_PREFIX, REGISTRY_PREFIX)
    tags: Mapping[str, str] = field(default_factory=dict)


def step_policy(region: str, artifacts_bucket_arn: str, artifacts_key_arn: str, features_bucket_arn: str,
                features_key_arn: str, feature_prefixes: Sequence[str] = (OFFLINE_PREFIX, REGISTRY_PREFIX),
                artifact_prefix: str = ARTIFACT_PREFIX) -> dict:
    """The role's inline policy document (resolved values)."""
    return {"Version": "2012-10-17", "Statement": [
        s3_objects("ReadFeatureData", "s3:GetObject", features_bucket_arn, list(feature_prefixes)),
        # Feast's S3 registry store opens with HeadBucket.
        s3_find_bucket("FindFeatureBucket", features_bucket_arn),
        s3_list("ListFeatureData", features_bucket_arn, [f"{prefix}/*" for prefix in feature_prefixes]),
        kms_via_service("DecryptFeatureDataThroughS3", "kms:Decrypt", features_key_arn, "s3", region),
        s3_objects("ReadWriteWorkflowArtifacts", ["s3:GetObject", "s3:PutObject"], artifacts_bucket_arn,
                   artifact_prefix),
        s3_list("ListWorkflowArtifacts", artifacts_bucket_arn, [f"{artifact_prefix}/*"]),
        # SSE-KMS: a PUT needs GenerateDataKey, a GET (and a multipart PUT) Decrypt, through S3 only.
        kms_via_service("UseArtifactsKeyThroughS3", ["kms:GenerateDataKey", "kms:Decrypt"], artifacts_key_arn, "s3",
                        region),
    ]}


class StepIdentity(pulumi.ComponentResource):
    """The IRSA role of ``pipelines/pipeline-steps`` (Argo's step pods, executor included)."""

    def __init__(self, name: str, inputs: AwsPipelineInputs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:pipelines:StepIdentity", name, None, opts)
        document = pulumi.Output.all(inputs.artifacts_bucket_arn, inputs.artifacts_key_arn, inputs.features_bucket_arn,
                                     inputs.features_key_arn).apply(
            lambda v: json.dumps(step_policy(inputs.region, *v, feature_prefixes=inputs.feature_prefixes)))
        self.role = inputs.cluster.irsa_role(f"{name}-steps", NAMESPACE, STEP_SERVICE_ACCOUNT, policy_json=document,
                                             opts=pulumi.ResourceOptions(parent=self),
                                             tags={**inputs.tags, "component": "pipelines"})
        self.annotations = {IRSA_ANNOTATION: self.role.arn}
        self.register_outputs({"roleArn": self.role.arn})


def retraining_pipeline(name: str, retraining: RetrainingArgs, environment: str, inputs: AwsPipelineInputs,
                        opts: pulumi.ResourceOptions, k8s_opts: pulumi.ResourceOptions,
                        ui_sso: Optional[PipelineUiSso] = None) -> RetrainingPipeline:
    """The step identity (``opts``: the AWS provider) and the in-cluster pipeline (``k8s_opts``)."""
    identity = StepIdentity(f"{name}-identity", inputs, opts=opts)
    store = ArtifactStore("s3", inputs.artifacts_bucket, region=inputs.region, key_prefix=ARTIFACT_PREFIX,
                          kms_key_id=inputs.artifacts_key_arn)
    # pyarrow's and boto3's S3 clients in the steps need the region (IRSA gives credentials, not the region).
    retraining = dataclasses.replace(retraining, extra_env={**retraining.extra_env, "AWS_REGION": inputs.region})
    return RetrainingPipeline(name, RetrainingPipelineArgs(
        retraining=retraining, artifact_store=store, step_identity_annotations=identity.annotations,
        environment=environment, depends_on=[identity], ui_sso=ui_sso), opts=k8s_opts)
