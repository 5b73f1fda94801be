"""RDS databases refuse deletion until protection is turned off on purpose.

Advisory: dev stacks set deletionProtection=false so that `pulumi destroy` tears them down; prod
sets it from mlops:environment. A finding on prod is the regression this rule exists for.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-rds-database-enable-deletion-protection",
    description="RDS instances and Aurora clusters should have deletion protection enabled.",
    severity="medium",
    enforcement="advisory",
    remediation="Set deletion_protection=True (the default for mlops:environment prod).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.13"),
    tags=("rds", "resilience"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=require_true("deletionProtection", "one delete call (or a replaced resource) drops the database."),
)
