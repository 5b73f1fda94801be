"""The mlops-platform AWS policy pack: only builds the PolicyPack (rules live in mlops_aws_policies)."""
from pulumi_policy import EnforcementLevel

from mlops_policy import PolicyPack, policies

import mlops_aws_policies

PolicyPack(
    name="mlops-aws",
    description="AWS rules for the mlops-platform: KMS encryption, no public exposure, least-privilege IAM.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=policies(mlops_aws_policies),
    provider="aws",
)
