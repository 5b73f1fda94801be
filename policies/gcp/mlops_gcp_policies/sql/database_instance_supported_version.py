"""Cloud SQL for PostgreSQL instances pin a major version still in standard support (POSTGRES_<major>)."""
from mlops_policy.versions import supported_version_rule

RULE = supported_version_rule(
    "gcp-sql-databaseinstance-require-supported-version", "Cloud SQL for PostgreSQL instances", "gcp-postgres",
    ("gcp:sql/databaseInstance:DatabaseInstance",), "databaseVersion",
    normalize=lambda value: value.removeprefix("POSTGRES_").split("_")[0],
    # Replicas follow their primary; MySQL and SQL Server are not in the table.
    applies=lambda props: str(props.get("databaseVersion", "POSTGRES")).startswith("POSTGRES")
    and not props.get("masterInstanceName"))
