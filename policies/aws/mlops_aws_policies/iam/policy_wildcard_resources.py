"""Identity policies scope write, delete and permissions-management actions to named resources.

An Allow statement with ``Resource: "*"`` (or ``NotResource``) fails when one of its action
patterns can match a non-read action that supports resource-level permissions. It passes when
every pattern is read/list-only (``ec2:Describe*``), or names an action AWS only grants on
"*" (_actions.NO_RESOURCE_LEVEL_ACTIONS, extendable by config), or when a condition scopes
the resources (tags, resource account/org, iam:PassedToService, ec2:CreateAction, kms:ViaService).
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import describe, policy_statements
from ._actions import is_read_only, needs_no_resource
from .policy_wildcard_actions import POLICY_TYPES

RESOURCE_SCOPING_CONDITION_KEYS = frozenset(k.lower() for k in (
    "aws:ResourceAccount", "aws:ResourceOrgID", "aws:ResourceOrgPaths", "iam:PassedToService",
    "ec2:CreateAction", "kms:ViaService", "iam:PolicyARN", "iam:PermissionsBoundary",
))


def _scoped_by_condition(statement) -> bool:
    keys = statement.condition_keys()
    return bool(keys & RESOURCE_SCOPING_CONDITION_KEYS) or any(
        "resourcetag/" in k or "requesttag/" in k for k in keys)


def check(resource, config):
    extra = frozenset(a.lower() for a in config.get("allowedWildcardResourceActions") or [])
    usable, findings = policy_statements(resource)
    yield from findings
    for label, statements in usable:
        for index, statement in enumerate(statements):
            if not statement.allows:
                continue
            resources = statement.resources or ()
            everything = statement.not_resources is not None or "*" in resources
            if not everything or _scoped_by_condition(statement):
                continue
            if statement.not_actions is not None:
                yield f"{label} {describe(statement, index)} allows NotAction on every resource."
                continue
            actions = statement.actions or ()
            if any(is_unknown(a) for a in actions):
                yield cannot_check(f"{label} {describe(statement, index)} Action")
                continue
            broad = [a for a in actions if not is_read_only(a) and not needs_no_resource(a, extra)]
            if broad:
                yield (f"{label} {describe(statement, index)} allows {', '.join(broad)} on Resource \"*\": "
                       "name the ARNs (or scope with a resource-tag condition).")


RULE = ResourceRule(
    name="aws-iam-policy-disallow-wildcard-resources",
    description="IAM identity policies must not allow write, delete or permissions-management actions on Resource \"*\".",
    severity="high",
    enforcement="mandatory",
    remediation="List the ARNs the actions apply to (e.g. the bucket ARN and <bucket ARN>/*), or add a condition "
                "such as aws:ResourceTag/<key> that scopes the statement.",
    frameworks=SOC2("CC6.3") + ISO27001("A.8.2", "A.5.15") + PCI_DSS("7.2.2"),
    tags=("iam", "least-privilege"),
    config={"allowedWildcardResourceActions": {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": "Extra actions (service:Action) that AWS only grants on Resource \"*\".",
    }},
    resource_types=POLICY_TYPES,
    check=check,
)
