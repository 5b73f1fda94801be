"""Nothing outside kube-system is bound to the cluster-admin ClusterRole.

A RoleBinding in kube-system only grants inside kube-system and passes. A ClusterRoleBinding
(or a RoleBinding elsewhere) passes only when every subject is a ServiceAccount in kube-system;
users and groups (e.g. a team group) bound to cluster-admin fail.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import BINDING_TYPES

SYSTEM_NAMESPACE = "kube-system"


def _subject_outside(subject) -> bool:
    return not (subject.get("kind") == "ServiceAccount" and subject.get("namespace") == SYSTEM_NAMESPACE)


def check(resource, config):
    role = resource.props.get("roleRef")
    if is_unknown(role) or is_unknown(get(role, "name")):
        yield cannot_check("roleRef.name")
        return
    if get(role, "name") != "cluster-admin" or get(role, "kind", "ClusterRole") != "ClusterRole":
        return
    namespace = get(resource.props, "metadata.namespace")
    if resource.type.endswith((":RoleBinding", ":RoleBindingPatch")):
        if is_unknown(namespace):
            yield cannot_check("metadata.namespace")
            return
        if namespace == SYSTEM_NAMESPACE:
            return
    subjects = resource.props.get("subjects")
    if is_unknown(subjects) or any(is_unknown(s) for s in subjects or []):
        yield cannot_check("subjects")
        return
    outside = [f"{s.get('kind')} {s.get('namespace') + '/' if s.get('namespace') else ''}{s.get('name')}"
               for s in subjects or [] if _subject_outside(s)]
    if outside:
        yield f"binds cluster-admin to {', '.join(outside)}."


RULE = ResourceRule(
    name="kubernetes-rbac-binding-disallow-cluster-admin",
    description="The cluster-admin ClusterRole must not be bound to subjects outside kube-system.",
    severity="critical",
    enforcement="mandatory",
    remediation="Bind a namespaced Role (or a narrow ClusterRole) with the permissions the subject needs; keep "
                "cluster-admin for break-glass access outside the program.",
    frameworks=CIS_KUBERNETES("5.1.1") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.1"),
    tags=("rbac", "least-privilege"),
    resource_types=BINDING_TYPES,
    check=check,
)
