"""Containers mount their root filesystem read-only (writable paths go to emptyDir volumes)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        read_only = workload.container_security(container, "readOnlyRootFilesystem")
        if is_unknown(read_only):
            yield cannot_check(f"{label} securityContext.readOnlyRootFilesystem")
        elif read_only is not True:
            yield f"{label} has a writable root filesystem."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-readonly-root-filesystem",
    description="Containers must use a read-only root filesystem.",
    severity="medium",
    enforcement="advisory",
    remediation="Set securityContext.readOnlyRootFilesystem=true and mount emptyDir volumes at the paths the "
                "process writes to (e.g. /tmp).",
    frameworks=CIS_KUBERNETES("5.7.3") + SOC2("CC6.8") + ISO27001("A.8.9") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
