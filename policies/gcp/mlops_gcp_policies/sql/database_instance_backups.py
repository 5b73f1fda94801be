"""Primary Cloud SQL instances take automated backups.

A read replica (``masterInstanceName`` set) cannot have its own backups; it is covered by its
primary's, so replicas are out of scope.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_set, is_unknown, truthy

from .._gcp import path


def check(resource, config):
    master = resource.props.get("masterInstanceName")
    enabled = path(resource.props.get("settings"), "backupConfiguration.enabled")
    if is_unknown(master) or is_unknown(enabled):
        yield cannot_check("masterInstanceName or settings.backupConfiguration.enabled")
    elif not is_set(master) and not (enabled is not None and truthy(enabled)):
        yield ("settings.backupConfiguration.enabled is not true: the instance has no automated backups, so a bad "
               "migration or deletion loses the tracking data.")


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-enable-backups",
    description="Primary Cloud SQL instances have automated backups enabled.",
    severity="high",
    remediation="Set settings.backup_configuration={'enabled': True, 'point_in_time_recovery_enabled': True, "
                "'backup_retention_settings': {'retained_backups': 14}}.",
    frameworks=CIS_GCP("6.7") + SOC2("A1.2", "CC7.5") + ISO27001("A.8.13") + PCI_DSS("12.10.1"),
    enforcement="mandatory",  # the stated RPO depends on it
    tags=("cloudsql", "backup"),
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
