"""The GKE control plane accepts connections only from named networks (master authorized networks).

``masterAuthorizedNetworksConfig`` must be present; a CIDR block of 0.0.0.0/0 (any /0) or
``gcpPublicCidrsAccessEnabled`` (every Google Cloud public IP, i.e. any customer's VM) defeats it.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import block, path


def check(resource, config):
    networks = resource.props.get("masterAuthorizedNetworksConfig")
    if is_unknown(networks):
        yield cannot_check("masterAuthorizedNetworksConfig")
        return
    networks = block(networks)
    if not isinstance(networks, dict):
        yield ("masterAuthorizedNetworksConfig is not set: the control plane accepts connections from any address "
               "that reaches its endpoint.")
        return
    blocks = networks.get("cidrBlocks")
    if is_unknown(blocks):
        yield cannot_check("masterAuthorizedNetworksConfig.cidrBlocks")
        return
    for entry in as_list(blocks):
        cidr = path(entry, "cidrBlock")
        if isinstance(cidr, str) and not is_unknown(cidr) and cidr.strip().endswith("/0"):
            yield f"masterAuthorizedNetworksConfig authorizes {cidr}: any address may reach the control plane."
    public = networks.get("gcpPublicCidrsAccessEnabled")
    if is_unknown(public):
        yield cannot_check("masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled")
    elif public is not None and truthy(public):
        yield ("masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled is true: every Google Cloud public IP "
               "(any customer's VM) may reach the control plane.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-master-authorized-networks",
    description="GKE control planes accept connections only from named authorized networks.",
    severity="high",
    remediation="Set master_authorized_networks_config={'cidr_blocks': [{'cidr_block': <VPC or VPN range>}], "
                "'gcp_public_cidrs_access_enabled': False}.",
    frameworks=CIS_GKE("5.6.3") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",  # public exposure of the cluster API
    tags=("gke", "public-exposure"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
