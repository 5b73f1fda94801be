"""GCP network: custom-mode VPC, GKE ranges, Private Google Access, Cloud NAT, private services access, firewall."""

import ipaddress

import pytest

from components.network.gcp import HEALTH_CHECK_RANGES, plan_gcp_ranges

from .foundation import NAME, PRIMARY, dev

VPC = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"


@pytest.fixture(scope="module")
def result():
    return dev()


@pytest.mark.parametrize("cidr", ["10.40.0.0/16", "172.16.0.0/20", "10.0.0.0/12"])
def test_ranges_are_inside_the_network_and_never_overlap(cidr):
    ranges = plan_gcp_ranges(cidr)
    network = ipaddress.ip_network(cidr)
    blocks = [ipaddress.ip_network(r) for r in (ranges.nodes, ranges.pods, ranges.services,
                                                ranges.control_plane, ranges.private_services)]
    assert all(block.subnet_of(network) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert ipaddress.ip_network(ranges.control_plane).prefixlen == 28  # GKE requires a /28
    assert ipaddress.ip_network(ranges.private_services).prefixlen <= 24  # Cloud SQL needs at least a /24


def test_custom_mode_vpc_with_one_private_regional_subnet(result):
    vpc = result.one(VPC)["inputs"]
    assert vpc["autoCreateSubnetworks"] is False
    subnet = result.one(SUBNET)["inputs"]
    ranges = plan_gcp_ranges("10.40.0.0/16")
    assert subnet["region"] == PRIMARY and subnet["ipCidrRange"] == ranges.nodes
    assert subnet["privateIpGoogleAccess"] is True
    assert {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]} == {
        "pods": ranges.pods, "services": ranges.services}
    assert subnet["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"  # VPC flow logs on


def test_cloud_nat_serves_the_node_subnet_only_and_logs_errors(result):
    nat = result.one("gcp:compute/routerNat:RouterNat")["inputs"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    [entry] = nat["subnetworks"]
    assert entry["name"] == f"projects/acme-ml-test/regions/{PRIMARY}/subnetworks/{NAME}-nodes"
    assert entry["sourceIpRangesToNats"] == ["ALL_IP_RANGES"]  # nodes and pods
    assert nat["logConfig"] == {"enable": True, "filter": "ERRORS_ONLY"}


def test_private_services_access_reserves_the_data_range_and_peers_it(result):
    address = result.one("gcp:compute/globalAddress:GlobalAddress")["inputs"]
    reserved = ipaddress.ip_network(f"{address['address']}/{address['prefixLength']}")
    assert [str(reserved)] == result.outputs["dataSubnetCidrs"]
    assert address["purpose"] == "VPC_PEERING" and address["addressType"] == "INTERNAL"
    connection = result.one("gcp:servicenetworking/connection:Connection")["inputs"]
    assert connection["service"] == "servicenetworking.googleapis.com"
    assert connection["reservedPeeringRanges"] == [address["name"]]
    assert connection["network"] == result.outputs["vpcId"]


def test_firewall_opens_nothing_to_the_internet_and_logs_denied_ingress(result):
    rules = {r["inputs"]["name"]: r["inputs"] for r in result.by_type("gcp:compute/firewall:Firewall")}
    deny = rules[f"{NAME}-deny-all-ingress"]
    assert deny["denies"] == [{"protocol": "all"}] and deny["priority"] == 65534 and deny["logConfig"]
    for rule in rules.values():
        if rule.get("allows"):
            assert "0.0.0.0/0" not in rule["sourceRanges"]
    health = rules[f"{NAME}-allow-health-checks"]
    assert health["sourceRanges"] == HEALTH_CHECK_RANGES and health["targetTags"] == [f"{NAME}-node"]
