"""A route table's default route goes through a managed gateway, not through an instance.

A default route (0.0.0.0/0 or ::/0) to an EC2 instance or network interface is a hand-built NAT
instance: a single unpatched host that sees every outbound packet of the private subnets, with
source/destination checks turned off. Private subnets use NAT gateways, public ones the internet
gateway (or an egress-only gateway for IPv6).
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, as_list, cannot_check, is_unknown

DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")
INSTANCE_TARGETS = ("instanceId", "networkInterfaceId")


def _routes(resource):
    if resource.type == "aws:ec2/route:Route":
        return [("route", resource.props)]
    return [(f"routes[{i}]", r if is_unknown(r) else r or {}) for i, r in enumerate(as_list(resource.props.get("routes")))]


def check(resource, config):
    if is_unknown(resource.props.get("routes")):
        yield cannot_check("routes")
        return
    for label, route in _routes(resource):
        if is_unknown(route):
            yield cannot_check(label)
            continue
        destination = route.get("cidrBlock") or route.get("ipv6CidrBlock") or route.get("destinationCidrBlock") \
            or route.get("destinationIpv6CidrBlock")
        if destination not in DEFAULT_ROUTES:
            continue
        for target in INSTANCE_TARGETS:
            if route.get(target) not in (None, ""):
                yield (f"{label} sends {destination} to {target}: a NAT instance carries the subnets' egress; "
                       "use a NAT gateway (natGatewayId).")


RULE = ResourceRule(
    name="aws-ec2-routetable-require-nat-gateway-default-route",
    description="Default routes must use a NAT gateway or internet gateway, never an EC2 instance or network interface.",
    severity="medium",
    enforcement="mandatory",
    remediation="Create an aws.ec2.NatGateway per Availability Zone and route 0.0.0.0/0 of private route tables to it.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20"),
    tags=("ec2", "network"),
    resource_types=("aws:ec2/routeTable:RouteTable", "aws:ec2/route:Route"),
    check=check,
)
