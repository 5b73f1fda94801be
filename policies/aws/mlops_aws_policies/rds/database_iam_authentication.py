"""RDS/Aurora databases that support it authenticate users with IAM database authentication."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

# Engines with IAM database authentication (RDS User Guide, "IAM database authentication").
SUPPORTED_ENGINES = ("mysql", "mariadb", "postgres", "aurora", "aurora-mysql", "aurora-postgresql")


def check(resource, config):
    props = resource.props
    engine = props.get("engine")
    if is_unknown(engine):
        yield cannot_check("engine")
        return
    if engine is not None and engine not in SUPPORTED_ENGINES:
        return  # Oracle, SQL Server, Db2: no IAM database authentication
    enabled = props.get("iamDatabaseAuthenticationEnabled")
    if is_unknown(enabled):
        yield cannot_check("iamDatabaseAuthenticationEnabled")
    elif enabled is None and props.get("replicateSourceDb") not in (None, ""):
        return  # a read replica follows its source (checked on the source)
    elif enabled is not True:
        yield "iamDatabaseAuthenticationEnabled is not true: database users rely on long-lived passwords only."


RULE = ResourceRule(
    name="aws-rds-database-enable-iam-authentication",
    description="RDS and Aurora databases must enable IAM database authentication.",
    severity="medium",
    enforcement="advisory",
    remediation="Set iam_database_authentication_enabled=True and grant rds-db:connect to the roles "
                "(IRSA service accounts) that connect.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.3.1"),
    tags=("rds", "iam"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=check,
)
