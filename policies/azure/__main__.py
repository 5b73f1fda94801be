"""The mlops-platform Azure policy pack: only builds the PolicyPack (rules live in mlops_azure_policies)."""
from pulumi_policy import EnforcementLevel

from mlops_policy import PolicyPack, policies

import mlops_azure_policies

PolicyPack(
    name="mlops-azure",
    description="Azure rules for the mlops-platform: customer-managed keys, no public exposure, TLS, "
                "Entra ID and least-privilege RBAC.",
    enforcement_level=EnforcementLevel.ADVISORY,  # each rule sets its own level; this is only the fallback
    policies=policies(mlops_azure_policies),
    provider="azure-native",
)
