"""Containers set allowPrivilegeEscalation=false (Kubernetes defaults it to true)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._workloads import WORKLOAD_TYPES, check_container_setting


def check(resource, config):
    return check_container_setting(resource, "allowPrivilegeEscalation", lambda value: value is not False,
                                   "does not set securityContext.allowPrivilegeEscalation=false (setuid binaries can gain root).")


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
