"""Containers run as a non-root user.

The effective value is the container's securityContext, falling back to the pod's. A container
passes with runAsNonRoot=true (and no runAsUser 0) or with a runAsUser above 0.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        non_root = workload.effective(container, "runAsNonRoot")
        user = workload.effective(container, "runAsUser")
        if is_unknown(user) or (is_unknown(non_root) and user is None):
            yield cannot_check(f"{label} securityContext.runAsNonRoot/runAsUser")
        elif user == 0:
            yield f"{label} sets runAsUser 0 (root)."
        elif non_root is not True and not (isinstance(user, int) and user > 0):
            yield f"{label} may run as root: set runAsNonRoot=true or a non-zero runAsUser."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-non-root",
    description="Containers must run as a non-root user.",
    severity="high",
    enforcement="advisory",
    remediation="Set securityContext.runAsNonRoot=true and runAsUser to a non-zero UID (pod or container level); "
                "build images with a USER directive.",
    frameworks=CIS_KUBERNETES("5.2.7") + SOC2("CC6.8") + ISO27001("A.8.2") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
