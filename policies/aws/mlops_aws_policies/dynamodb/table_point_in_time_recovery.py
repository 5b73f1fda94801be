"""DynamoDB tables keep point-in-time recovery, so a bad materialization can be rolled back.

The online store is rebuilt from the offline store in hours; with PITR a botched feature push
is undone to the second in minutes, and a deleted table is restorable for its recovery window.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-dynamodb-table-enable-point-in-time-recovery",
    description="DynamoDB tables must enable point-in-time recovery.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set point_in_time_recovery={'enabled': True} on the table (replicas: point_in_time_recovery=True).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.13"),
    tags=("dynamodb", "backup"),
    resource_types=("aws:dynamodb/table:Table",),
    check=require_true("pointInTimeRecovery.enabled", "deleted or overwritten items cannot be restored."),
)
