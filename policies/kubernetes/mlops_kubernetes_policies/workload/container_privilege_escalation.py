"""Containers set allowPrivilegeEscalation=false (Kubernetes defaults it to true)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        allowed = workload.container_security(container, "allowPrivilegeEscalation")
        if is_unknown(allowed):
            yield cannot_check(f"{label} securityContext.allowPrivilegeEscalation")
        elif allowed is not False:
            yield f"{label} does not set securityContext.allowPrivilegeEscalation=false (setuid binaries can gain root)."


RULE = ResourceRule(
    name="kubernetes-workload-container-disallow-privilege-escalation",
    description="Containers must set allowPrivilegeEscalation to false.",
    severity="high",
    enforcement="advisory",
    remediation="Set securityContext.allowPrivilegeEscalation=false on every container and init container.",
    frameworks=CIS_KUBERNETES("5.2.6") + SOC2("CC6.8") + ISO27001("A.8.2") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
