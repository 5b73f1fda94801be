"""RDS databases export their engine logs to CloudWatch Logs, where they outlive the instance.

Connection failures, slow queries and upgrade output are what an incident review of the tracking
database reads; logs kept only on the instance rotate away within days and vanish with it. Which
log types exist depends on the engine (RDS User Guide, "Publishing database logs to CloudWatch Logs").
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

# The log types that record errors and connections, per engine family.
REQUIRED = {
    "postgres": ("postgresql",),
    "aurora-postgresql": ("postgresql",),
    "mysql": ("error",),
    "mariadb": ("error",),
    "aurora-mysql": ("error",),
}


def check(resource, config):
    props = resource.props
    engine = props.get("engine")  # unset on a replica: any export passes, the source is checked by engine
    exports = props.get("enabledCloudwatchLogsExports")
    if is_unknown(exports) or any(is_unknown(e) for e in as_list(exports)):
        yield cannot_check("enabledCloudwatchLogsExports")
        return
    exports = as_list(exports)
    if not exports:
        yield "enabledCloudwatchLogsExports is empty: the engine's logs stay on the instance and vanish with it."
        return
    wanted = REQUIRED.get(engine or "", ())
    missing = [t for t in wanted if t not in exports]
    if missing:
        yield f"enabledCloudwatchLogsExports {exports} lacks {', '.join(missing)}, the {engine} error and connection log."


RULE = ResourceRule(
    name="aws-rds-database-enable-log-exports",
    description="RDS databases must export their engine logs (PostgreSQL: postgresql) to CloudWatch Logs.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set enabled_cloudwatch_logs_exports=['postgresql', 'upgrade'] and create the log groups "
                "/aws/rds/instance/<id>/<type> first with a KMS key and a retention.",
    frameworks=SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    tags=("rds", "logging"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"),
    check=check,
)
