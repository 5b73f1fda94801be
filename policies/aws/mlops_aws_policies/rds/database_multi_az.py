"""Production RDS databases run Multi-AZ, so losing one Availability Zone does not stop tracking.

Advisory: a dev stack deliberately runs one instance (half the cost, and an AZ outage only pauses
experiments); prod sets multiAz from config. Rules do not see the stack's environment, so the
finding is a reminder on dev and a regression signal on prod. Read replicas (the DR copy) are
single-AZ by design until promoted.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-rds-database-enable-multi-az",
    description="RDS database instances should run Multi-AZ (a synchronous standby in a second Availability Zone).",
    severity="medium",
    enforcement="advisory",
    remediation="Set multi_az=True (mlops:tracking multiAz, on by default in prod).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.14"),
    tags=("rds", "resilience"),
    resource_types=("aws:rds/instance:Instance",),
    check=require_true("multiAz", "one Availability Zone outage stops the database until it is restored.",
                       applies=lambda props: props.get("replicateSourceDb") in (None, "")),
)
