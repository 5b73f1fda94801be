"""ClusterRoles do not grant impersonation, privilege escalation or reading every secret.

``impersonate`` (users, groups, service accounts) acts as anyone; ``escalate`` on roles and
``bind`` on (cluster)roles grant permissions the holder does not have; get/list/watch on
``secrets`` without ``resourceNames`` reads every credential of the cluster (list returns the
values too). Controllers that need one of these get a waiver in the stack file.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._kinds import CLUSTER_ROLE_TYPES, role_rules

READ = {"get", "list", "watch", "*"}
ESCALATION_RESOURCES = {"roles", "clusterroles", "*"}
IDENTITY_RESOURCES = {"users", "groups", "serviceaccounts", "uids", "userextras/scopes", "*"}


def _problems(rule) -> list:
    verbs = {v.lower() for v in rule.get("verbs") or []}
    resources = {r.lower() for r in rule.get("resources") or []}
    groups = set(rule.get("apiGroups") or [])
    found = []
    if verbs & {"impersonate", "*"} and resources & IDENTITY_RESOURCES and groups & {"", "*", "authentication.k8s.io"}:
        found.append("impersonate users/groups/service accounts")
    if verbs & {"escalate", "bind", "*"} and resources & ESCALATION_RESOURCES and groups & {"rbac.authorization.k8s.io", "*"}:
        found.append("escalate/bind roles")
    if verbs & READ and resources & {"secrets", "*"} and groups & {"", "*"} and not rule.get("resourceNames"):
        found.append("read every secret in the cluster")
    return found


def check(resource, config):
    for item in role_rules(resource, ("verbs", "resources", "apiGroups")):
        if not isinstance(item, tuple):
            yield item
            continue
        i, rule = item
        for problem in _problems(rule):
            yield f"rules[{i}] lets the holder {problem}."


RULE = ResourceRule(
    name="kubernetes-rbac-clusterrole-disallow-escalation-permissions",
    description="ClusterRoles must not grant impersonate, escalate/bind, or read access to all secrets.",
    severity="critical",
    enforcement="mandatory",
    remediation="Drop impersonate/escalate/bind; grant secrets access in a namespaced Role limited by resourceNames.",
    frameworks=CIS_KUBERNETES("5.1.2", "5.1.8") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    tags=("rbac", "least-privilege"),
    resource_types=CLUSTER_ROLE_TYPES,
    check=check,
)
