"""EKS API endpoints are not reachable from the whole internet.

``endpointPublicAccess`` defaults to true and ``publicAccessCidrs`` to 0.0.0.0/0, so an
unset vpcConfig means a world-reachable API server.
"""
from __future__ import annotations

from mlops_policy import CIS_EKS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

OPEN = ("0.0.0.0/0", "::/0")


def check(resource, config):
    vpc = resource.props.get("vpcConfig")
    if is_unknown(vpc):
        yield cannot_check("vpcConfig")
        return
    vpc = vpc or {}
    public = vpc.get("endpointPublicAccess", True)
    if is_unknown(public):
        yield cannot_check("vpcConfig.endpointPublicAccess")
        return
    if public is False:
        return
    cidrs = vpc.get("publicAccessCidrs")
    if is_unknown(cidrs) or any(is_unknown(c) for c in cidrs or []):
        yield cannot_check("vpcConfig.publicAccessCidrs")
        return
    open_cidrs = [c for c in (cidrs or ["0.0.0.0/0"]) if c in OPEN]
    if open_cidrs:
        yield (f"the public API endpoint accepts {', '.join(open_cidrs)}"
               f"{' (the default when publicAccessCidrs is unset)' if not cidrs else ''}.")


RULE = ResourceRule(
    name="aws-eks-cluster-disallow-public-endpoint",
    description="EKS cluster API endpoints must not be publicly reachable from 0.0.0.0/0.",
    severity="critical",
    enforcement="mandatory",
    remediation="Set vpc_config.endpoint_private_access=True and endpoint_public_access=False, or keep the public "
                "endpoint with public_access_cidrs limited to your office/VPN ranges.",
    frameworks=CIS_EKS("5.4.2") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    tags=("eks", "public-access"),
    resource_types=("aws:eks/cluster:Cluster",),
    check=check,
)
