"""The ``admin`` and ``edit`` ClusterRoles are not bound cluster-wide.

Both are meant for a RoleBinding inside one namespace. Through a ClusterRoleBinding they give
their holder every namespace: ``admin`` manages RBAC and reads every Secret of the cluster,
``edit`` reads every Secret and can run pods as any service account.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import CLUSTER_BINDING_TYPES

NAMESPACE_ROLES = ("admin", "edit")


def check(resource, config):
    role = resource.props.get("roleRef")
    if is_unknown(role) or is_unknown(get(role, "name")):
        yield cannot_check("roleRef.name")
        return
    name = get(role, "name")
    if name in NAMESPACE_ROLES and get(role, "kind", "ClusterRole") == "ClusterRole":
        yield (f"binds the {name} ClusterRole cluster-wide: its holders get {name} rights in every namespace, "
               "including reading every Secret.")


RULE = ResourceRule(
    name="kubernetes-rbac-clusterbinding-disallow-namespace-admin-roles",
    description="The admin and edit ClusterRoles must only be bound inside a namespace, not cluster-wide.",
    severity="high",
    enforcement="mandatory",
    remediation="Bind admin/edit with a RoleBinding in each namespace the team owns.",
    frameworks=CIS_KUBERNETES("5.1.1") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.1"),
    tags=("rbac", "least-privilege"),
    resource_types=CLUSTER_BINDING_TYPES,
    check=check,
)
