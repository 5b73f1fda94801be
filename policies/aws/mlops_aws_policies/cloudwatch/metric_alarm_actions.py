"""CloudWatch alarms notify someone: actions enabled and at least one alarm action.

An alarm with actionsEnabled=false (or no alarmActions) changes state in the console and nothing
else; the on-call never hears about failed replication or a dying tracking database.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, as_list, cannot_check, is_unknown


def check(resource, config):
    props = resource.props
    enabled = props.get("actionsEnabled")
    actions = props.get("alarmActions")
    if is_unknown(enabled) or is_unknown(actions):
        yield cannot_check("actionsEnabled/alarmActions")
    elif enabled is False:
        yield "actionsEnabled is false: the alarm changes state without notifying anyone."
    elif not as_list(actions):
        yield "alarmActions is empty: the alarm changes state without notifying anyone."


RULE = ResourceRule(
    name="aws-cloudwatch-metricalarm-enable-actions",
    description="CloudWatch metric alarms must have actions enabled and at least one alarm action.",
    severity="medium",
    enforcement="mandatory",
    remediation="Leave actions_enabled at True and set alarm_actions (and ok_actions) to the platform's alert topic.",
    frameworks=SOC2("CC7.2", "CC7.3") + ISO27001("A.8.16"),
    tags=("cloudwatch", "monitoring"),
    resource_types=("aws:cloudwatch/metricAlarm:MetricAlarm",),
    check=check,
)
