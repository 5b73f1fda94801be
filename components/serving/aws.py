"""AWS: the model server reads the MLflow artifact bucket through IRSA (no access key).

The role trusts only ``system:serviceaccount:serving:model-server`` of this cluster's OIDC provider; its
policy lists and reads the artifact prefix and decrypts with the artifacts key through S3 only. KServe's
storage initializer (boto3) picks the web-identity token up from the pod; the S3 endpoint and region come
from KServe's ServiceAccount annotations (``ModelStorage``).
"""

from __future__ import annotations

from typing import Callable

import pulumi

from components.aws_iam import kms_via_service, s3_list, s3_objects
from components.serving import NAMESPACE, SERVICE_ACCOUNT
from components.serving.component import ServingIdentity
from components.documents import json_document

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def read_artifacts_policy(bucket_arn: pulumi.Input[str], prefix: str, key_arn: pulumi.Input[str],
                          region: str) -> pulumi.Output[str]:
    return json_document({
        "Version": "2012-10-17",
        "Statement": [
            s3_list("ListModelPrefix", bucket_arn, [prefix, f"{prefix}/*"]),
            s3_objects("ReadModels", "s3:GetObject", bucket_arn, prefix),
            kms_via_service("ArtifactsKeyThroughS3", "kms:Decrypt", key_arn, "s3", region),
        ],
    })


def model_server_identity(cluster, bucket_arn: pulumi.Input[str], prefix: str, key_arn: pulumi.Input[str],
                          region: str, tags: dict) -> Callable[[pulumi.Resource], ServingIdentity]:
    """A factory ModelServing calls with itself as parent (the role is the component's child)."""
    return _irsa_identity(cluster, "model-server", SERVICE_ACCOUNT,
                          read_artifacts_policy(bucket_arn, prefix, key_arn, region), tags)


def _irsa_identity(cluster, name: str, service_account: str, policy: pulumi.Output[str],
                   tags: dict) -> Callable[[pulumi.Resource], ServingIdentity]:
    """The IRSA role of one serving service account, made when ModelServing calls with itself as parent."""
    def make(parent: pulumi.Resource) -> ServingIdentity:
        role = cluster.irsa_role(name, NAMESPACE, service_account, policy, pulumi.ResourceOptions(parent=parent),
                                 tags={**tags, "component": "serving"})
        return ServingIdentity(annotations={IRSA_ANNOTATION: role.arn})
    return make


def write_log_policy(bucket_arn: pulumi.Input[str], key_prefix: str, key_arn: pulumi.Input[str],
                     region: str) -> pulumi.Output[str]:
    """The request log sink: PutObject under ``key_prefix`` (ends in '/') and the data key SSE-KMS needs for
    it, through S3 only. No read, list or delete: parts are written once and never looked at again."""
    return json_document({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WriteRequestLogParts", "Effect": "Allow", "Action": "s3:PutObject",
             "Resource": pulumi.Output.format("{0}/{1}*", bucket_arn, key_prefix)},
            kms_via_service("FeaturesKeyThroughS3", "kms:GenerateDataKey", key_arn, "s3", region),
        ],
    })


def request_log_identity(cluster, bucket_arn: pulumi.Input[str], key_prefix: str, key_arn: pulumi.Input[str],
                         region: str, tags: dict) -> Callable[[pulumi.Resource], ServingIdentity]:
    """IRSA role of ``serving/request-log`` (the features bucket's offline store, the log's prefix only)."""
    from components.serving import request_log

    return _irsa_identity(cluster, "request-log", request_log.SERVICE_ACCOUNT,
                          write_log_policy(bucket_arn, key_prefix, key_arn, region), tags)
