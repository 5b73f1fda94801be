"""RDS databases keep automated backups for at least seven days (point-in-time restore window).

The tracking database holds every run, metric and model-version record; an accidental delete or a
bad migration is only recoverable within the backup window. Zero turns backups off; RDS's default
is one day, too short to notice a weekend's damage. Read replicas take no backups of their own
unless set, and are covered by their source.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

MINIMUM_DAYS = 7


def check(resource, config):
    props = resource.props
    days = props.get("backupRetentionPeriod")
    if is_unknown(days):
        yield cannot_check("backupRetentionPeriod")
        return
    if days is None:
        if props.get("replicateSourceDb") not in (None, ""):
            return  # a replica: the source's backups are the recovery point
        days = 1  # the RDS API's default for a new instance
    if int(days) < MINIMUM_DAYS:
        yield (f"backupRetentionPeriod is {days} day(s): point-in-time restore reaches back less than {MINIMUM_DAYS} "
               "days (0 turns automated backups off).")


RULE = ResourceRule(
    name="aws-rds-database-require-backup-retention",
    description="RDS databases and Aurora clusters must keep automated backups for at least 7 days.",
    severity="high",
    enforcement="mandatory",
    remediation="Set backup_retention_period between 7 and 35 (mlops:tracking backupRetentionDays) and a "
                "backup_window outside the maintenance window.",
    frameworks=SOC2("A1.2", "CC7.5") + ISO27001("A.8.13") + PCI_DSS("12.10.1"),
    tags=("rds", "backup"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=check,
)
