"""RDS for PostgreSQL databases refuse unencrypted connections (rds.force_ssl=1 in their parameter group).

Without it a client that omits sslmode (or sets disable) sends the MLflow database password and
every query in clear text across the VPC. The setting lives in a separate ``rds.ParameterGroup``,
matched to the instance by its parameterGroupName (a literal name, or the engine's dependency).
An instance on the default parameter group gets the engine's default (0 before PostgreSQL 15):
naming a group of our own is what keeps the setting visible and under review.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, as_list, cannot_check, correlate, is_unknown, violation

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
ON = ("1", "true", "on")


def _force_ssl(group) -> str:
    """'on', 'off' or 'unknown' for the group's rds.force_ssl parameter."""
    parameters = group.props.get("parameters")
    if is_unknown(parameters):
        return "unknown"
    for parameter in as_list(parameters):
        if (parameter or {}).get("name") == "rds.force_ssl":
            value = parameter.get("value")
            if is_unknown(value):
                return "unknown"
            return "on" if str(value).lower() in ON else "off"
    return "off"


def _postgres(props) -> bool:
    """A PostgreSQL instance; a read replica (no engine input) follows its source's engine and is checked too."""
    engine = props.get("engine")
    return engine == "postgres" or (engine is None and props.get("replicateSourceDb") not in (None, ""))


def check(stack, config):
    groups = stack.of_type(PARAMETER_GROUP)
    for instance in stack.of_type(INSTANCE):
        if not _postgres(instance.props):
            continue
        if instance.props.get("parameterGroupName") in (None, ""):
            yield violation(f"database {instance.name} uses the engine's default parameter group: rds.force_ssl is "
                            "not set by the program.", instance)
            continue
        found = correlate(instance, "parameterGroupName", groups, lambda g, value: g.props.get("name") == value)
        if not found.matches:
            if not found.decided:
                yield cannot_check("parameterGroupName", instance)
            continue  # a parameter group managed outside this program
        group = found.matches[0]
        state = _force_ssl(group)
        if state == "unknown":
            yield cannot_check("parameters (rds.force_ssl)", group)
        elif state == "off":
            yield violation(f"database {instance.name}'s parameter group {group.name} does not set rds.force_ssl=1: "
                            "clients may connect without TLS.", instance)


RULE = StackRule(
    name="aws-rds-database-require-tls-connections",
    description="RDS for PostgreSQL instances must use a parameter group that sets rds.force_ssl=1.",
    severity="high",
    enforcement="mandatory",
    remediation="Create an aws.rds.ParameterGroup with parameters=[{'name': 'rds.force_ssl', 'value': '1', "
                "'apply_method': 'pending-reboot'}] and set parameter_group_name on the instance.",
    frameworks=SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    tags=("rds", "tls"),
    resource_types=(INSTANCE, PARAMETER_GROUP),
    check=check,
)
