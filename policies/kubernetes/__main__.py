"""The mlops-platform Kubernetes policy pack: only builds the PolicyPack (rules live in mlops_kubernetes_policies)."""
from pulumi_policy import EnforcementLevel

from mlops_policy import PolicyPack, policies

import mlops_kubernetes_policies

PolicyPack(
    name="mlops-kubernetes",
    description="Kubernetes rules for the mlops-platform: restricted pod security, resource limits, least-privilege RBAC.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=policies(mlops_kubernetes_policies),
    provider="kubernetes",
)
