"""Azure Database for PostgreSQL flexible servers pin a major version Azure still creates."""
from mlops_policy.versions import supported_version_rule

from .._azure import azure_types

RULE = supported_version_rule(
    "azure-dbforpostgresql-server-require-supported-version", "Azure Database for PostgreSQL flexible servers",
    "azure-postgres", azure_types("azure-native:dbforpostgresql:Server"), "version",
    applies=lambda props: props.get("createMode") not in ("Replica", "GeoRestore", "PointInTimeRestore"))  # follow their source
