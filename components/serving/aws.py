"""AWS: the model server reads the MLflow artifact bucket through IRSA (no access key).

The role trusts only ``system:serviceaccount:serving:model-server`` of this cluster's OIDC provider; its
policy lists and reads the artifact prefix and decrypts with the artifacts key through S3 only. KServe's
storage initializer (boto3) picks the web-identity token up from the pod; the S3 endpoint and region come
from KServe's ServiceAccount annotations (``ModelStorage``).
"""

from __future__ import annotations

from typing import Callable

import pulumi

from components.serving import NAMESPACE, SERVICE_ACCOUNT
from components.serving.component import ServingIdentity

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"


def read_artifacts_policy(bucket_arn: pulumi.Input[str], prefix: str, key_arn: pulumi.Input[str],
                          region: str) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListModelPrefix", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}},
            {"Sid": "ReadModels", "Effect": "Allow", "Action": "s3:GetObject",
             "Resource": pulumi.Output.format("{0}/{1}/*", bucket_arn, prefix)},
            {"Sid": "ArtifactsKeyThroughS3", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
        ],
    })


def model_server_identity(cluster, bucket_arn: pulumi.Input[str], prefix: str, key_arn: pulumi.Input[str],
                          region: str, tags: dict) -> Callable[[pulumi.Resource], ServingIdentity]:
    """A factory ModelServing calls with itself as parent (the role is the component's child)."""
    def make(parent: pulumi.Resource) -> ServingIdentity:
        role = cluster.irsa_role("model-server", NAMESPACE, SERVICE_ACCOUNT,
                                 read_artifacts_policy(bucket_arn, prefix, key_arn, region),
                                 pulumi.ResourceOptions(parent=parent), tags={**tags, "component": "serving"})
        return ServingIdentity(annotations={IRSA_ANNOTATION: role.arn})
    return make
