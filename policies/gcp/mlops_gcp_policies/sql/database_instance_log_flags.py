"""Cloud SQL for PostgreSQL instances log sessions, checkpoints and lock waits (database flags).

Cloud SQL leaves these PostgreSQL settings off; without them an investigation cannot tell who
connected from where and for how long, nor see lock contention. Checkov has one check per flag
(log_checkpoints, log_connections, log_disconnections, log_lock_waits, log_hostname); they state
one control, database session logging, so this is one rule that names each missing flag.
``requiredFlags`` (config) changes the list. Read replicas are checked too: a promoted replica
must keep logging. Only POSTGRES_* instances are in scope.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

from .._gcp import path

REQUIRED = ["log_checkpoints", "log_connections", "log_disconnections", "log_lock_waits", "log_hostname"]
ON = {"on", "true", "1", "yes"}


def check(resource, config):
    version = resource.props.get("databaseVersion")
    flags = path(resource.props.get("settings"), "databaseFlags")
    if is_unknown(version) or is_unknown(flags):
        yield cannot_check("databaseVersion or settings.databaseFlags")
        return
    if not str(version or "").upper().startswith("POSTGRES"):
        return
    values = {}
    for flag in as_list(flags):
        if isinstance(flag, dict) and isinstance(flag.get("name"), str):
            values[flag["name"]] = flag.get("value")
    if any(is_unknown(v) for v in values.values()):
        yield cannot_check("settings.databaseFlags values")
        return
    missing = [f for f in config.get("requiredFlags") or REQUIRED if str(values.get(f, "off")).strip().lower() not in ON]
    if missing:
        yield (f"settings.databaseFlags do not set {', '.join(missing)} to on: PostgreSQL does not log "
               f"{'these events' if len(missing) > 1 else 'this event'} (Cloud SQL's default is off).")


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-enable-session-logging",
    description="Cloud SQL for PostgreSQL instances log connections, disconnections, hostnames, checkpoints and lock waits.",
    severity="medium",
    remediation="Add {'name': <flag>, 'value': 'on'} to settings.database_flags for log_checkpoints, log_connections, "
                "log_disconnections, log_lock_waits and log_hostname.",
    frameworks=CIS_GCP("6.2.2", "6.2.3") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",  # audit logging of the tracking database
    tags=("cloudsql", "logging"),
    config={"requiredFlags": {"type": "array", "items": {"type": "string"}, "default": REQUIRED,
                              "description": "Boolean PostgreSQL flags that must be on."}},
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
