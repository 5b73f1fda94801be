"""Subnets do not hand out public IPv4 addresses to what launches in them.

With mapPublicIpOnLaunch every node, training instance or ENI started in the subnet gets an
internet-routable address, and only its security group stands between it and the internet. The
platform's public subnets hold NAT gateways and internet-facing load balancers, which get their
addresses explicitly (Elastic IPs), so no subnet needs the flag.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_false


RULE = ResourceRule(
    name="aws-ec2-subnet-disallow-public-ip-on-launch",
    description="VPC subnets must not assign public IPv4 addresses to instances by default.",
    severity="high",
    enforcement="mandatory",
    remediation="Set map_public_ip_on_launch=False; give NAT gateways Elastic IPs and put nodes in private subnets.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.4"),
    tags=("ec2", "network", "public-access"),
    resource_types=("aws:ec2/subnet:Subnet",),
    check=require_false("mapPublicIpOnLaunch", "every instance launched here gets a public IPv4 address."),
)
