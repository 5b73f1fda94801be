"""Log groups in the DR region keep logs as long as their primary-region counterparts.

After a failover the DR region is where the platform runs; its flow logs and database logs are
the evidence for an incident there, and audits ask for the same retention whichever region
served the traffic. Counterparts are matched by the last segment of the log group name
(``/mlops/mlops-prod/vpc-flow-logs`` and ``/mlops/mlops-prod-dr/vpc-flow-logs``;
``/aws/rds/instance/<db>/postgresql`` and ``.../<db>-dr/postgresql``). The primary region is the
one most of the stack's AWS resources live in (resources of a default provider whose region the
rule cannot see count as one region of their own). A missing retention means "never expire".
"""
from __future__ import annotations

from collections import Counter

from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._aws import region_of

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
FOREVER = float("inf")
DEFAULT = "the default provider's region"


def _region(resource) -> str:
    return region_of(resource) or DEFAULT


def _retention(group):
    value = group.props.get("retentionInDays")
    if is_unknown(value):
        return None
    return FOREVER if value in (None, 0) else int(value)


def _kind(group):
    name = group.props.get("name")
    if not isinstance(name, str) or is_unknown(name):
        return None
    return name.rstrip("/").rsplit("/", 1)[-1]


def check(stack, config):
    regions = Counter(_region(r) for r in stack.resources if r.type.startswith("aws:"))
    groups = stack.of_type(LOG_GROUP)
    if len(regions) < 2 or not groups:
        return
    primary = regions.most_common(1)[0][0]
    required: dict = {}
    for group in groups:
        if _region(group) == primary and _kind(group):
            retention = _retention(group)
            if retention is None:
                yield cannot_check("retentionInDays", group)
                continue
            required[_kind(group)] = max(required.get(_kind(group), 0), retention)
    for group in groups:
        region, kind = _region(group), _kind(group)
        if region == primary or kind not in required:
            continue
        retention = _retention(group)
        if retention is None:
            yield cannot_check("retentionInDays", group)
        elif retention < required[kind]:
            wanted = "never expire" if required[kind] == FOREVER else f"{required[kind]} days"
            yield violation(f"log group {group.props.get('name')} in {region} keeps logs {retention} days; its "
                            f"counterparts in the primary region {primary} keep them {wanted}.", group)


RULE = StackRule(
    name="aws-cloudwatch-loggroup-require-dr-retention-parity",
    description="CloudWatch log groups in the DR region must retain logs at least as long as their primary-region counterparts.",
    severity="medium",
    enforcement="mandatory",
    remediation="Give the DR log group the same retentionInDays as the primary one (derive both from one setting).",
    frameworks=SOC2("CC7.2", "A1.2") + ISO27001("A.8.15") + PCI_DSS("10.5.1"),
    tags=("logging", "dr"),
    check=check,
)
