"""Containers mount their root filesystem read-only (writable paths go to emptyDir volumes)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._workloads import WORKLOAD_TYPES, check_container_setting


def check(resource, config):
    return check_container_setting(resource, "readOnlyRootFilesystem", lambda value: value is not True,
                                   "has a writable root filesystem.")


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
