"""Azure policy pack entry point: builds the pack from the rule modules in azure_rules/, nothing else."""
from pulumi_policy import EnforcementLevel, PolicyPack

import azure_rules
from mlops_policy import policies

PolicyPack(
    name="mlops-azure",
    enforcement_level=EnforcementLevel.ADVISORY,  # each rule sets its own level; this is only the fallback
    policies=policies(azure_rules),
)
