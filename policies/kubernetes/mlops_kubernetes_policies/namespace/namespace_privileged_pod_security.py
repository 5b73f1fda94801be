"""Namespaces are not labelled Pod Security ``privileged`` (enforce level).

``pod-security.kubernetes.io/enforce: privileged`` switches the built-in Pod Security admission off
for every pod of the namespace: privileged containers, host namespaces and hostPath all admitted.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import NAMESPACE_TYPES

ENFORCE = "pod-security.kubernetes.io/enforce"


def check(resource, config):
    labels = get(resource.props, "metadata.labels")
    if is_unknown(labels):
        yield cannot_check("metadata.labels")
        return
    value = (labels or {}).get(ENFORCE)
    if is_unknown(value):
        yield cannot_check(f"metadata.labels[{ENFORCE}]")
    elif isinstance(value, str) and value.strip().lower() == "privileged":
        yield f"label {ENFORCE}=privileged turns Pod Security admission off for the namespace."


RULE = ResourceRule(
    name="kubernetes-podsecurity-namespace-disallow-privileged-level",
    description="Namespaces must not set the Pod Security enforce level to privileged.",
    severity="high",
    enforcement="mandatory",
    remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline where a workload "
                "needs it) and waive the one workload that needs more.",
    frameworks=CIS_KUBERNETES("5.2.1") + SOC2("CC6.8") + ISO27001("A.8.22") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=NAMESPACE_TYPES,
    check=check,
)
