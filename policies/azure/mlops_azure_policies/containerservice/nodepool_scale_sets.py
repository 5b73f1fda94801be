"""AKS node pools run on virtual machine scale sets.

Availability-set pools cannot autoscale, span availability zones, run spot capacity or host more
than one pool per cluster; the training pools need all four. Advisory: a legacy shape, not an exposure.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule

from .._azure import AKS_TYPES, pool_check

RULE = ResourceRule(
    name="azure-containerservice-nodepool-require-scale-sets",
    description="AKS node pools should be VirtualMachineScaleSets (not AvailabilitySet).",
    severity="low",
    remediation="Set type='VirtualMachineScaleSets' (the default) on every pool.",
    frameworks=SOC2("A1.2") + ISO27001("A.8.14"),
    enforcement="advisory",
    tags=("aks", "resilience"),
    resource_types=AKS_TYPES,
    check=pool_check("type", lambda v: f"is {v}: pools cannot autoscale, use zones or run spot nodes."
                     if v is not None and str(v) != "VirtualMachineScaleSets" else None),
)
