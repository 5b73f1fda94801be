"""Containers do not bind ports on the node (hostPort).

A hostPort exposes the container on every address of the node, outside Services and
NetworkPolicies (most CNIs apply policies to pod IPs only), and pins the pod to nodes where that
port is free.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        ports = container.get("ports")
        if is_unknown(ports):
            yield cannot_check(f"{label} ports")
            continue
        for port in ports or []:
            host_port = port.get("hostPort") if isinstance(port, dict) else None
            if is_unknown(host_port):
                yield cannot_check(f"{label} ports.hostPort")
            elif host_port not in (None, 0):
                yield f"{label} binds hostPort {host_port} on the node."


RULE = ResourceRule(
    name="kubernetes-workload-container-disallow-host-ports",
    description="Containers must not bind host ports.",
    severity="medium",
    enforcement="mandatory",
    remediation="Remove hostPort and expose the port through a Service (ClusterIP, or an internal load balancer).",
    frameworks=CIS_KUBERNETES("5.2.13") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    tags=("pod-security", "network"),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
