"""The mlops-platform GCP policy pack: only builds the PolicyPack (rules live in mlops_gcp_policies)."""
from pulumi_policy import EnforcementLevel

from mlops_policy import PolicyPack, policies

import mlops_gcp_policies

PolicyPack(
    name="mlops-gcp",
    description="GCP rules for the mlops-platform: CMEK with rotation, no public exposure, TLS, GKE hardening "
                "and least-privilege IAM.",
    enforcement_level=EnforcementLevel.ADVISORY,  # each rule sets its own level; this is only the fallback
    policies=policies(mlops_gcp_policies),
    provider="gcp",
)
