"""Pods do not share the node's network, PID or IPC namespace."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload

HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    where = len(workload.pods) > 1
    for pod in workload.pods:
        for field in HOST_NAMESPACES:
            value = pod.spec.get(field)
            if is_unknown(value):
                yield cannot_check(f"{pod.path}.{field}")
            elif value is True:
                yield f"the pod{' at ' + pod.path if where else ''} sets {field}=true."


RULE = ResourceRule(
    name="kubernetes-workload-pod-disallow-host-namespaces",
    description="Pods must not use the host network, PID or IPC namespace.",
    severity="high",
    enforcement="mandatory",
    remediation="Remove hostNetwork/hostPID/hostIPC from the pod spec; expose ports through a Service instead.",
    frameworks=CIS_KUBERNETES("5.2.3", "5.2.4", "5.2.5") + SOC2("CC6.8") + ISO27001("A.8.22") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
