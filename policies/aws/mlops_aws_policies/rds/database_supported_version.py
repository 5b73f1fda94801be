"""RDS for PostgreSQL instances pin an engine version RDS still creates (RDS stops creating old minors on a date)."""
from mlops_policy.versions import supported_version_rule

RULE = supported_version_rule(
    "aws-rds-database-require-supported-version", "RDS for PostgreSQL instances", "aws-postgres",
    ("aws:rds/instance:Instance",), "engineVersion",
    # Read replicas inherit the source's version (replicateSourceDb), other engines are not in the table.
    applies=lambda props: props.get("engine") == "postgres" and not props.get("replicateSourceDb"))
