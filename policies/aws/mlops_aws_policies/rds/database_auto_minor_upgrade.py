"""RDS databases take minor engine versions automatically in their maintenance window.

Minor versions carry the engine's security fixes; an instance that never takes them drifts onto
a version RDS deprecates (see aws-rds-database-require-supported-version). The attribute defaults
to true, so only an explicit false fails.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, require_true

RULE = ResourceRule(
    name="aws-rds-database-enable-auto-minor-upgrade",
    description="RDS instances must apply minor engine upgrades automatically.",
    severity="medium",
    enforcement="mandatory",
    remediation="Leave auto_minor_version_upgrade unset or True and set a maintenance_window.",
    frameworks=CIS_AWS("2.3.2") + SOC2("CC7.1") + ISO27001("A.8.8") + PCI_DSS("6.3.3"),
    tags=("rds", "patching"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=require_true("autoMinorVersionUpgrade", "security fixes in minor versions are never applied.", absent=True),
)
