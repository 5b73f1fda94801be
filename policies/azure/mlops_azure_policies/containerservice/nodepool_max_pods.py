"""AKS node pools allow at least 50 pods per node.

Below 50, system DaemonSets (Cilium, CSI drivers, node agents, the GPU device plugin) leave little
room for workloads, and AKS refuses some add-ons; a too-low maxPods cannot be raised without
recreating the pool. Advisory: a capacity choice, not a security control. Unset means the plugin's
default (250 for Azure CNI overlay, 30 for kubenet).
"""
from mlops_policy import ISO27001, SOC2, ResourceRule

from .._azure import AKS_TYPES, pool_check

MINIMUM = 50

RULE = ResourceRule(
    name="azure-containerservice-nodepool-require-min-max-pods",
    description="AKS node pools should allow at least 50 pods per node (maxPods).",
    severity="low",
    remediation="Set maxPods between 50 and 250 when the pool is created (110 is the platform's value).",
    frameworks=SOC2("A1.1") + ISO27001("A.8.6"),
    enforcement="advisory",
    tags=("aks", "capacity"),
    resource_types=AKS_TYPES,
    check=pool_check("maxPods", lambda v: f"is {v}: fewer than {MINIMUM} pods per node." if v is not None
                     and int(v) < MINIMUM else None),
)
