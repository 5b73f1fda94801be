"""Every subnet has a network security group.

A subnet without an NSG admits whatever reaches it (peered networks, a later route change, a VM or
endpoint someone adds) with no layer-4 filter at all; the platform gives each subnet its own NSG with
the rules that subnet needs (components/network/azure.py). Read on ``network.Subnet`` resources and on
subnets declared inline in a ``VirtualNetwork`` (Checkov CKV2_AZURE_31). Subnets Azure refuses an NSG
on (GatewaySubnet, AzureFirewallSubnet, AzureFirewallManagementSubnet, RouteServerSubnet) are exempt.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import azure_types

SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
EXEMPT = {"gatewaysubnet", "azurefirewallsubnet", "azurefirewallmanagementsubnet", "routeserversubnet"}


def _subnets(resource):
    if resource.type in azure_types(SUBNET):
        return [("", resource.props.get("subnetName") or resource.props.get("name"), resource.props)]
    subnets = resource.props.get("subnets")
    if is_unknown(subnets):
        return [("subnets", None, subnets)]
    return [(f"subnets[{i}]" + ("" if is_unknown(s) else f" ({(s or {}).get('name', '')})"),
             None if is_unknown(s) else (s or {}).get("name"), s if is_unknown(s) else s or {})
            for i, s in enumerate(subnets or [])]


def check(resource, config):
    for label, name, subnet in _subnets(resource):
        if is_unknown(subnet):
            yield cannot_check(label)
            continue
        if isinstance(name, str) and not is_unknown(name) and name.lower() in EXEMPT:
            continue
        nsg = subnet.get("networkSecurityGroup")
        nsg_id = nsg.get("id") if isinstance(nsg, dict) else nsg
        where = f"{label}.networkSecurityGroup" if label else "networkSecurityGroup"
        if is_unknown(nsg):
            yield cannot_check(where)
        elif is_unknown(nsg_id):
            continue  # a reference to an NSG created in the same update: its id is known only after creation
        elif not nsg_id:
            yield f"{where} is not set: the subnet admits traffic with no network filter."


RULE = ResourceRule(
    name="azure-network-subnet-require-nsg",
    description="Every subnet must have a network security group (except the gateway, firewall and route server subnets).",
    severity="medium",
    remediation="Create an NSG with the rules the subnet needs and set networkSecurityGroup={'id': nsg.id} on the subnet.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20", "A.8.22") + PCI_DSS("1.2.1"),
    enforcement="mandatory",
    tags=("network",),
    resource_types=azure_types(SUBNET, VNET),
    check=check,
)
