"""PostgreSQL flexible servers must be reachable from private networks only."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_set, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    network = resource.props.get("network")
    if is_unknown(network):
        yield cannot_check("network")
        return
    access = get(network, "publicNetworkAccess")
    subnet = get(network, "delegatedSubnetResourceId")
    if is_unknown(access):
        yield cannot_check("network.publicNetworkAccess")
    elif lower(access) == "enabled":
        yield "network.publicNetworkAccess is Enabled: the server has a public endpoint."
    elif lower(access) == "disabled":
        return
    elif not is_set(subnet):
        # Neither a VNet-integrated server nor public access switched off: Azure defaults to a public endpoint.
        yield ("the server has neither a delegated subnet (network.delegatedSubnetResourceId) nor "
               "network.publicNetworkAccess=Disabled, so Azure gives it a public endpoint.")


RULE = ResourceRule(
    name="azure-dbforpostgresql-server-disallow-public-access",
    description="PostgreSQL flexible servers have no public endpoint (VNet-integrated or public network access disabled).",
    severity="high",
    remediation="Integrate the server in a delegated subnet (network.delegatedSubnetResourceId + "
                "privateDnsZoneArmResourceId) or set network.publicNetworkAccess='Disabled' and use a private endpoint.",
    frameworks=CIS_AZURE("4.3.7") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("postgresql", "public-exposure"),
    resource_types=azure_types("azure-native:dbforpostgresql:Server"),
    check=check,
)
