"""GCP policy pack entry point: builds the pack from the rule modules in gcp_rules/, nothing else."""
from pulumi_policy import EnforcementLevel, PolicyPack

import gcp_rules
from mlops_policy import policies

PolicyPack(
    name="mlops-gcp",
    enforcement_level=EnforcementLevel.ADVISORY,  # each rule sets its own level; this is only the fallback
    policies=policies(gcp_rules),
)
