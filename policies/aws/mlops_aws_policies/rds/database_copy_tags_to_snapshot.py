"""RDS snapshots carry the instance's tags (owner, environment, component).

Snapshots outlive instances; untagged ones cannot be attributed, cost-allocated or found by the
DR runbook's tag filters. Read replicas take no snapshots and are skipped.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-rds-database-enable-copy-tags-to-snapshot",
    description="RDS instances and Aurora clusters should copy their tags to snapshots.",
    severity="low",
    enforcement="advisory",
    remediation="Set copy_tags_to_snapshot=True.",
    frameworks=SOC2("CC6.1") + ISO27001("A.5.9"),
    tags=("rds", "tagging"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=require_true("copyTagsToSnapshot", "snapshots are created without owner and environment tags.",
                       applies=lambda props: props.get("replicateSourceDb") in (None, "")),
)
