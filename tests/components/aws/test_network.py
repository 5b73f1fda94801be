"""Network: zones, tiers, egress, endpoints and flow logs, in dev (shared NAT) and prod (NAT per zone)."""

import ipaddress

import pytest

from components.network import pick_zones, plan_subnets

from components.network import NetworkArgs
from components.network.aws import AwsNetworkInputs, Network

from .foundation import NAME, PRIMARY, bound_to, foundation, policy, preview, provider_urn, statements


@pytest.fixture(scope="module")
def dev():
    return preview(lambda: foundation(cluster=False, az_count=2, nat_per_az=False))


@pytest.fixture(scope="module")
def prod():
    return preview(lambda: foundation(cluster=False, az_count=3, nat_per_az=True))


def subnets(result, tier):
    return [s for s in result.by_type("aws:ec2/subnet:Subnet") if s["inputs"]["tags"]["tier"] == tier]


@pytest.mark.parametrize("fixture,zones", [("dev", 2), ("prod", 3)])
def test_three_tiers_one_subnet_per_zone_inside_the_vpc(request, fixture, zones):
    result = request.getfixturevalue(fixture)
    vpc = ipaddress.ip_network(result.one("aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"])
    cidrs = []
    for tier in ("public", "private", "data"):
        tier_subnets = subnets(result, tier)
        assert sorted(s["inputs"]["availabilityZone"] for s in tier_subnets) == [f"{PRIMARY}{z}" for z in "abc"[:zones]]
        cidrs += [ipaddress.ip_network(s["inputs"]["cidrBlock"]) for s in tier_subnets]
        assert all(s["inputs"]["mapPublicIpOnLaunch"] is False for s in tier_subnets)
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])


def test_subnets_carry_load_balancer_and_node_discovery_tags(dev):
    assert all(s["inputs"]["tags"]["kubernetes.io/role/elb"] == "1" for s in subnets(dev, "public"))
    for subnet in subnets(dev, "private"):
        assert subnet["inputs"]["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet["inputs"]["tags"]["karpenter.sh/discovery"] == NAME
    assert not any("karpenter.sh/discovery" in s["inputs"]["tags"] for s in subnets(dev, "data") + subnets(dev, "public"))


def route_tables(result, prefix):
    return [rt for rt in result.by_type("aws:ec2/routeTable:RouteTable") if rt["name"].startswith(f"network-{prefix}")]


def test_data_subnets_have_no_internet_route(dev):
    [data] = route_tables(dev, "data")
    assert data["inputs"]["routes"] == []
    for association in dev.by_type("aws:ec2/routeTableAssociation:RouteTableAssociation"):
        if association["name"].startswith("network-data-"):
            assert data["urn"] in association["dependencies"]


def test_only_public_subnets_route_to_the_internet_gateway(dev):
    igw = dev.one("aws:ec2/internetGateway:InternetGateway")["urn"]
    [public] = route_tables(dev, "public")
    assert [r["cidrBlock"] for r in public["inputs"]["routes"]] == ["0.0.0.0/0"] and igw in public["dependencies"]
    others = route_tables(dev, "private") + route_tables(dev, "data")
    assert all(igw not in rt["dependencies"] for rt in others)


@pytest.mark.parametrize("fixture,nats", [("dev", 1), ("prod", 3)])
def test_private_egress_through_nat_one_or_per_zone(request, fixture, nats):
    result = request.getfixturevalue(fixture)
    gateways = result.by_type("aws:ec2/natGateway:NatGateway")
    assert len(gateways) == nats
    public_urns = {s["urn"] for s in subnets(result, "public")}
    assert all(set(g["dependencies"]) & public_urns for g in gateways)
    used = set()
    for rt in route_tables(result, "private"):
        [route] = rt["inputs"]["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0" and route["natGatewayId"].startswith("nat-")
        used.add(route["natGatewayId"])
    assert len(used) == nats


def test_default_security_group_allows_nothing(dev):
    group = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert group["inputs"].get("ingress", []) == [] and group["inputs"].get("egress", []) == []


def test_gateway_endpoints_serve_private_and_data_route_tables(dev):
    route_table_urns = {rt["urn"] for rt in route_tables(dev, "private") + route_tables(dev, "data")}
    for service in ("s3", "dynamodb"):
        endpoint = dev.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"network-{service}")
        assert endpoint["inputs"]["vpcEndpointType"] == "Gateway"
        assert endpoint["inputs"]["serviceName"] == f"com.amazonaws.{PRIMARY}.{service}"
        assert len(endpoint["inputs"]["routeTableIds"]) == 3 and route_table_urns <= set(endpoint["dependencies"])


def test_interface_endpoints_are_private_and_reachable_only_over_https_from_the_vpc(dev):
    private_ids = dev.outputs["privateSubnetIds"]
    group = dev.one("aws:ec2/securityGroup:SecurityGroup", "network-endpoints")
    assert group["inputs"]["ingress"] == [{"cidrBlocks": ["10.40.0.0/16"], "description": "HTTPS from the VPC",
                                           "fromPort": 443, "protocol": "tcp", "toPort": 443}]
    for service in ("ecr.api", "ecr.dkr", "sts", "logs"):
        endpoint = dev.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"network-{service.replace('.', '-')}")
        assert endpoint["inputs"]["serviceName"] == f"com.amazonaws.{PRIMARY}.{service}"
        assert endpoint["inputs"]["vpcEndpointType"] == "Interface" and endpoint["inputs"]["privateDnsEnabled"] is True
        assert endpoint["inputs"]["subnetIds"] == private_ids
        assert group["urn"] in endpoint["dependencies"]


def test_flow_logs_capture_all_traffic_into_a_log_group_encrypted_with_the_logs_key(dev):
    log_group = dev.one("aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert log_group["inputs"]["kmsKeyId"] == dev.outputs["key:notifications"]
    assert log_group["inputs"]["retentionInDays"] == 30
    flow_log = dev.one("aws:ec2/flowLog:FlowLog")
    assert flow_log["inputs"]["trafficType"] == "ALL" and flow_log["inputs"]["vpcId"] == dev.outputs["vpcId"]
    assert flow_log["inputs"]["logDestination"] == f"arn:aws:logs:{PRIMARY}:123456789012:log-group:/mlops/{NAME}/vpc-flow-logs"


def test_flow_log_role_is_for_this_accounts_flow_logs_and_writes_only_that_group(dev):
    role = dev.one("aws:iam/role:Role", "network-flow-logs")
    [trust] = policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:ec2:{PRIMARY}:123456789012:vpc-flow-log/*"}
    write = statements(policy(dev.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs")))["WriteFlowLogStreams"]
    group_arn = f"arn:aws:logs:{PRIMARY}:123456789012:log-group:/mlops/{NAME}/vpc-flow-logs"
    assert write["Resource"] == [group_arn, f"{group_arn}:log-stream:*"]
    assert write["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def test_everything_is_created_with_the_primary_provider(dev):
    primary = provider_urn(dev, "primary")
    network = [r for r in dev.resources if r["custom"] and r["type"].startswith("aws:") and "keys" not in r["name"]]
    assert network and all(bound_to(r, primary) for r in network)


def test_subnet_plan_is_stable_and_fits_small_ranges():
    plan = plan_subnets("10.0.0.0/20", 6)
    cidrs = [ipaddress.ip_network(c) for c in (*plan.private, *plan.data, *plan.public)]
    assert len(cidrs) == 18 and not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    assert plan.private[0] == "10.0.0.0/23" and plan.data[0] == "10.0.12.0/26" and plan.public[0] == "10.0.14.0/26"
    assert plan_subnets("10.40.0.0/16", 2).private == ("10.40.0.0/19", "10.40.32.0/19")


def test_too_few_zones_is_a_clear_error():
    assert pick_zones(["us-east-1c", "us-east-1a", "us-east-1b"], 2) == ["us-east-1a", "us-east-1b"]
    with pytest.raises(ValueError, match="offers 2 availability zones .* 3 requested"):
        pick_zones(["a", "b"], 3)


def test_data_only_network_has_no_way_to_the_internet():
    def program():
        built = foundation(network=False, cluster=False)
        Network("dr-network", NetworkArgs(name=f"{NAME}-dr", cidr="10.41.0.0/16", az_count=2, nat_gateway_per_az=False,
                                          data_only=True), AwsNetworkInputs(PRIMARY, built.keys.notifications.arn),
                opts=built.opts)
    result = preview(program)
    assert [s["inputs"]["tags"]["tier"] for s in result.by_type("aws:ec2/subnet:Subnet")] == ["data", "data"]
    for kind in ("internetGateway:InternetGateway", "natGateway:NatGateway", "eip:Eip", "vpcEndpoint:VpcEndpoint"):
        assert result.by_type(f"aws:ec2/{kind}") == []
    assert [rt["inputs"]["routes"] for rt in result.by_type("aws:ec2/routeTable:RouteTable")] == [[]]
    assert result.one("aws:ec2/flowLog:FlowLog")["inputs"]["trafficType"] == "ALL"
