"""No privileged containers (a privileged container is root on the node)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._workloads import WORKLOAD_TYPES, check_container_setting


def check(resource, config):
    return check_container_setting(resource, "privileged", lambda value: value is True,
                                   "runs privileged.")


RULE = ResourceRule(
    name="kubernetes-workload-container-disallow-privileged",
    description="Containers must not run in privileged mode.",
    severity="critical",
    enforcement="mandatory",
    remediation="Remove securityContext.privileged (or set it to false); grant the single capability the "
                "workload needs instead.",
    frameworks=CIS_KUBERNETES("5.2.2") + SOC2("CC6.8") + ISO27001("A.8.2") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
