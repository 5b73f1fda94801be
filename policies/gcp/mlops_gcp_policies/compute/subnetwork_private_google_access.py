"""Subnets of private nodes reach Google APIs privately (Private Google Access).

Nodes without external IPs (the platform's private GKE nodes) can call Cloud Storage, Artifact
Registry, Cloud KMS ... only through Private Google Access or a NAT; with it, that traffic stays on
Google's network instead of leaving through Cloud NAT. Proxy-only/PSC subnets are out of scope.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .subnetwork_flow_logs import applies


def check(resource, config):
    relevant = applies(resource.props)
    value = resource.props.get("privateIpGoogleAccess")
    if relevant is None or is_unknown(value):
        yield cannot_check("purpose or privateIpGoogleAccess")
    elif relevant and not (value is not None and truthy(value)):
        yield ("privateIpGoogleAccess is not true: private nodes reach Google APIs only through NAT and the internet "
               "path, or not at all.")


RULE = ResourceRule(
    name="gcp-compute-subnetwork-enable-private-google-access",
    description="VPC subnets that carry VM traffic enable Private Google Access.",
    severity="low",
    remediation="Set private_ip_google_access=True on the subnetwork.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20"),
    enforcement="advisory",  # a routing choice: without it traffic takes Cloud NAT, nothing is exposed
    tags=("vpc",),
    resource_types=("gcp:compute/subnetwork:Subnetwork",),
    check=check,
)
