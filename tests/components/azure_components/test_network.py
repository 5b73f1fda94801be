"""Azure network: subnet ranges and delegations, egress only through the NAT, Postgres NSG, private DNS zones."""

import ipaddress

import pytest

from components.network.azure import PRIVATE_DNS_ZONE_KINDS, PRIVATE_DNS_ZONES

from .foundation import foundation, named


@pytest.fixture(scope="module")
def result():
    return foundation()


def subnets(result, env):
    return {s["inputs"]["subnetName"]: s["inputs"] for s in named(result, "azure-native:network:Subnet", f"{env}-")}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_subnets_inside_the_vnet_apart_and_without_default_outbound(result, env):
    [vnet] = named(result, "azure-native:network:VirtualNetwork", f"{env}-")
    space = ipaddress.ip_network(vnet["inputs"]["addressSpace"]["addressPrefixes"][0])
    found = subnets(result, env)
    assert set(found) == {"nodes", "postgres", "private-endpoints", "apiserver"}
    ranges = [ipaddress.ip_network(s["addressPrefix"]) for s in found.values()]
    assert all(r.subnet_of(space) for r in ranges)
    assert not any(a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1:])
    assert all(s["defaultOutboundAccess"] is False for s in found.values())


def test_only_the_node_subnet_egresses_through_the_nat(result):
    found = subnets(result, "dev")
    [nat] = named(result, "azure-native:network:NatGateway", "dev-")
    [ip] = named(result, "azure-native:network:PublicIPAddress", "dev-")
    assert nat["inputs"]["sku"]["name"] == "Standard" and ip["inputs"]["sku"]["name"] == "Standard"
    assert found["nodes"]["natGateway"]["id"].endswith(f"/natGateways/{nat['inputs']['natGatewayName']}")
    assert [name for name, s in found.items() if "natGateway" in s] == ["nodes"]


def test_delegations_for_postgres_and_the_api_server(result):
    found = subnets(result, "dev")
    assert [d["serviceName"] for d in found["postgres"]["delegations"]] == ["Microsoft.DBforPostgreSQL/flexibleServers"]
    assert [d["serviceName"] for d in found["apiserver"]["delegations"]] == ["Microsoft.ContainerService/managedClusters"]
    assert found["private-endpoints"]["privateEndpointNetworkPolicies"] == "Enabled"


def test_postgres_subnet_admits_only_the_nodes_on_postgres_ports(result):
    found = subnets(result, "dev")
    [nsg] = named(result, "azure-native:network:NetworkSecurityGroup", "dev-")
    assert found["postgres"]["networkSecurityGroup"]["id"].endswith(nsg["inputs"]["networkSecurityGroupName"])
    rules = {r["name"]: r for r in nsg["inputs"]["securityRules"]}
    allow = rules["allow-postgres-from-nodes"]
    assert (allow["access"], allow["sourceAddressPrefix"]) == ("Allow", found["nodes"]["addressPrefix"])
    assert allow["destinationPortRanges"] == ["5432", "6432"]
    deny = rules["deny-rest-of-vnet"]
    assert (deny["access"], deny["sourceAddressPrefix"], deny["destinationPortRange"]) == ("Deny", "VirtualNetwork", "*")
    assert deny["priority"] > max(r["priority"] for r in rules.values() if r["access"] == "Allow")


def test_private_dns_zones_for_every_service_linked_to_the_vnet(result):
    zones = {z["inputs"]["privateZoneName"] for z in named(result, "azure-native:privatedns:PrivateZone", "dev-")}
    assert zones == {*PRIVATE_DNS_ZONES.values(), "mlops-dev.private.postgres.database.azure.com"}
    assert len(zones) == len(PRIVATE_DNS_ZONE_KINDS)
    links = named(result, "azure-native:privatedns:VirtualNetworkLink", "dev-")
    assert len(links) == len(zones)
    assert all(link["inputs"]["registrationEnabled"] is False and link["inputs"]["location"] == "global"
               and link["inputs"]["virtualNetwork"]["id"].endswith("/virtualNetworks/mlops-dev-vnet") for link in links)
