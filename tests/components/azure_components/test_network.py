"""Azure network: subnet ranges and delegations, egress only through the NAT, Postgres NSG, private DNS zones."""

import ipaddress

import pytest

from components.features.azure import REDIS_PORT
from components.network.azure import ENDPOINT_PORTS, POD_CIDR, PRIVATE_DNS_ZONE_KINDS, PRIVATE_DNS_ZONES

from .foundation import DEV_CIDRS

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


def nsg_rules(result, env, subnet):
    """The rules of the NSG the subnet references, by name (and that the reference is the subnet's own NSG)."""
    [nsg] = named(result, "azure-native:network:NetworkSecurityGroup", f"{env}-network-{subnet}")
    reference = subnets(result, env)[{"endpoints": "private-endpoints"}.get(subnet, subnet)]["networkSecurityGroup"]["id"]
    assert reference.endswith(f"/networkSecurityGroups/{nsg['inputs']['networkSecurityGroupName']}")
    return {r["name"]: r for r in nsg["inputs"]["securityRules"]}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_subnet_has_its_own_nsg(result, env):
    """CKV2_AZURE_31: no subnet is left without a network filter."""
    found = subnets(result, env)
    ids = [s["networkSecurityGroup"]["id"] for s in found.values()]
    assert len(ids) == len(set(ids)) == 4


def test_postgres_subnet_admits_only_the_nodes_on_postgres_ports(result):
    found = subnets(result, "dev")
    rules = nsg_rules(result, "dev", "postgres")
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


def test_private_endpoints_answer_only_on_their_services_ports(result):
    found = subnets(result, "dev")
    rules = nsg_rules(result, "dev", "endpoints")
    allow = rules["allow-services-from-vnet"]
    assert (allow["access"], allow["sourceAddressPrefix"]) == ("Allow", "VirtualNetwork")
    assert allow["destinationAddressPrefix"] == found["private-endpoints"]["addressPrefix"]
    assert allow["destinationPortRanges"] == ENDPOINT_PORTS and str(REDIS_PORT) in ENDPOINT_PORTS
    deny = rules["deny-rest-of-vnet"]
    assert (deny["access"], deny["sourceAddressPrefix"], deny["priority"]) == ("Deny", "VirtualNetwork", 4000)


def test_node_subnet_admits_what_aks_overlay_needs_and_denies_nothing(result):
    """Azure CNI overlay: node<->node, node<->pod, pod<->pod and API server->nodes/pods on every port; no deny rule
    (the internet stays out through Azure's default DenyAllInBound)."""
    found = subnets(result, "dev")
    rules = nsg_rules(result, "dev", "nodes")
    assert all(r["access"] == "Allow" for r in rules.values())
    inbound = rules["allow-cluster-inbound"]
    assert set(inbound["sourceAddressPrefixes"]) == {found["nodes"]["addressPrefix"], POD_CIDR, found["apiserver"]["addressPrefix"]}
    assert (inbound["protocol"], inbound["destinationPortRange"], inbound["direction"]) == ("*", "*", "Inbound")
    outbound = rules["allow-cluster-outbound"]
    assert (outbound["direction"], outbound["destinationAddressPrefix"]) == ("Outbound", POD_CIDR)
    assert rules["allow-azure-load-balancer"]["sourceAddressPrefix"] == "AzureLoadBalancer"


def test_api_server_subnet_admits_the_vnet_and_only_dev_public_ranges(result):
    for env, public in (("dev", sorted(DEV_CIDRS)), ("prod", None)):
        apiserver = subnets(result, env)["apiserver"]["addressPrefix"]
        rules = nsg_rules(result, env, "apiserver")
        vnet = rules["allow-apiserver-from-vnet"]
        assert (vnet["sourceAddressPrefix"], vnet["destinationAddressPrefix"]) == ("VirtualNetwork", apiserver)
        assert "443" in vnet["destinationPortRanges"]
        public_rule = rules.get("allow-apiserver-from-public-cidrs")
        if public is None:
            assert public_rule is None
        else:
            assert (public_rule.get("sourceAddressPrefixes") or [public_rule["sourceAddressPrefix"]]) == public
            assert public_rule["destinationPortRanges"] == ["443"]
        assert not any(r["access"] == "Deny" for r in rules.values())
