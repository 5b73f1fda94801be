"""PostgreSQL flexible servers keep geo-redundant backups in the paired region.

Point-in-time restore then survives the loss of the whole primary region. Advisory: dev servers
keep local backups only (cost); prod enables it. Read replicas (createMode Replica) have no
backups of their own and are skipped.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, require_one_of

from .._azure import azure_types, lower

RULE = ResourceRule(
    name="azure-dbforpostgresql-server-enable-geo-redundant-backup",
    description="PostgreSQL flexible servers should enable geo-redundant backups.",
    severity="medium",
    remediation="Set backup={'geoRedundantBackup': 'Enabled', ...} at creation (with dataEncryption.geoBackupKeyURI "
                "when the server uses a customer-managed key).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.13"),
    enforcement="advisory",
    tags=("postgresql", "backup", "resilience"),
    resource_types=azure_types("azure-native:dbforpostgresql:Server"),
    check=require_one_of("backup.geoRedundantBackup", ("Enabled",), "a region outage loses the point-in-time restore.",
                         absent="Disabled", applies=lambda props: lower(props.get("createMode")) not in
                         ("replica",)),
)
