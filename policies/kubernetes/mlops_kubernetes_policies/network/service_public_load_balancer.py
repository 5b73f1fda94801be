"""Services of type LoadBalancer are internal, or restricted to named source ranges.

Without the cloud's "internal" annotation the controller provisions an internet-facing load
balancer whose listener accepts 0.0.0.0/0 unless ``loadBalancerSourceRanges`` narrows it.
Internal annotations per cloud: AWS Load Balancer Controller ``aws-load-balancer-scheme: internal``
(and the in-tree ``aws-load-balancer-internal``), AKS ``azure-load-balancer-internal: "true"``,
GKE ``networking.gke.io/load-balancer-type: Internal``.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import SERVICE_TYPES

INTERNAL = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
}
OPEN_RANGES = ("0.0.0.0/0", "::/0")


def check(resource, config):
    kind = get(resource.props, "spec.type")
    if is_unknown(kind):
        yield cannot_check("spec.type")
        return
    if kind != "LoadBalancer":
        return
    annotations = get(resource.props, "metadata.annotations")
    if is_unknown(annotations):
        yield cannot_check("metadata.annotations")
        return
    if any(str((annotations or {}).get(key, "")).strip().lower() in values for key, values in INTERNAL.items()):
        return
    ranges = get(resource.props, "spec.loadBalancerSourceRanges")
    if is_unknown(ranges):
        yield cannot_check("spec.loadBalancerSourceRanges")
    elif not ranges or any(r in OPEN_RANGES for r in ranges):
        yield ("is an internet-facing LoadBalancer open to any address: add the cloud's internal-load-balancer "
               "annotation or spec.loadBalancerSourceRanges.")


RULE = ResourceRule(
    name="kubernetes-network-service-disallow-public-load-balancer",
    description="LoadBalancer Services must be internal or limited to named source ranges.",
    severity="high",
    enforcement="mandatory",
    remediation="Annotate the Service as internal (aws-load-balancer-scheme: internal, azure-load-balancer-internal: "
                "\"true\", networking.gke.io/load-balancer-type: Internal) or set spec.loadBalancerSourceRanges.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20", "A.8.22") + PCI_DSS("1.3.1", "1.4.1"),
    tags=("network", "public-exposure"),
    resource_types=SERVICE_TYPES,
    check=check,
)
