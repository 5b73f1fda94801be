"""RDS databases enable Performance Insights, the per-query load history slow MLflow pages are diagnosed with.

Advisory: the dev instance class (db.t4g) supports it but dev does not need it; prod enables it.
Encryption of the collected data (it contains SQL text) is the separate mandatory rule
aws-rds-database-performance-insights-cmk-encryption.
"""
from __future__ import annotations

from mlops_policy import SOC2, ISO27001, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-rds-database-enable-performance-insights",
    description="RDS database instances should enable Performance Insights.",
    severity="low",
    enforcement="advisory",
    remediation="Set performance_insights_enabled=True with performance_insights_kms_key_id=<the database key>.",
    frameworks=SOC2("CC7.2") + ISO27001("A.8.16"),
    tags=("rds", "monitoring"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=require_true("performanceInsightsEnabled", "query load and wait events are not recorded."),
)
