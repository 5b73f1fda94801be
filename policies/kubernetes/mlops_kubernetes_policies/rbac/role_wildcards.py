"""Roles and ClusterRoles name their verbs and resources: no "*".

Aggregated ClusterRoles (aggregationRule) get their rules from other roles, which are checked
themselves.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._kinds import ROLE_TYPES, role_rules


def check(resource, config):
    for item in role_rules(resource):
        if not isinstance(item, tuple):
            yield item
            continue
        i, rule = item
        for field in ("verbs", "resources"):
            values = rule.get(field) or []
            if is_unknown(values):
                yield cannot_check(f"rules[{i}].{field}")
            elif "*" in values:
                yield f"rules[{i}].{field} contains \"*\"."


RULE = ResourceRule(
    name="kubernetes-rbac-role-disallow-wildcard-permissions",
    description="Roles and ClusterRoles must not use \"*\" in verbs or resources.",
    severity="high",
    enforcement="mandatory",
    remediation="List the exact verbs (get, list, watch, ...) and resources the subject needs.",
    frameworks=CIS_KUBERNETES("5.1.3") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    tags=("rbac", "least-privilege"),
    resource_types=ROLE_TYPES,
    check=check,
)
