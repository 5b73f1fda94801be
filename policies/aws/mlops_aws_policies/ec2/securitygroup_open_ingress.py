"""Security groups must not let the whole internet reach remote-administration ports, plaintext HTTP or every port.

The platform's only inbound paths are inside the VPC (the cluster to PostgreSQL, the VPC to its
interface endpoints); UIs leave the cluster through internal load balancers behind SSO. A rule from
0.0.0.0/0 or ::/0 to SSH (22), RDP (3389), HTTP (80) or all ports/protocols is how hosts get
brute-forced and plaintext services scraped. The three shapes an ingress rule takes are read:
inline ``ingress`` blocks, ``ec2.SecurityGroupRule`` (type ingress) and ``vpc.SecurityGroupIngressRule``.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ANYWHERE = ("0.0.0.0/0", "::/0")
WATCHED_PORTS = {22: "SSH", 3389: "RDP", 80: "HTTP"}
ALL_PROTOCOLS = ("-1", "all")


def _problem(protocol, from_port, to_port) -> str | None:
    """What an internet-wide rule with this protocol and port range exposes, or None."""
    if is_unknown(protocol) or is_unknown(from_port) or is_unknown(to_port):
        return "unknown"
    if str(protocol).lower() in ALL_PROTOCOLS:
        return "every port and protocol"
    if str(protocol).lower() not in ("tcp", "udp", "6", "17"):
        return None  # ICMP and other protocols have no ports
    low, high = int(from_port if from_port is not None else 0), int(to_port if to_port is not None else 65535)
    if low <= 0 and high >= 65535 or (low == -1 and high == -1):
        return "every port"
    exposed = [f"{port} ({name})" for port, name in WATCHED_PORTS.items() if low <= port <= high]
    return f"port {', '.join(exposed)}" if exposed else None


def _entries(resource):
    """(label, sources, protocol, fromPort, toPort) for each ingress the resource declares."""
    props = resource.props
    if resource.type == SECURITY_GROUP:
        ingress = props.get("ingress")
        if is_unknown(ingress):
            yield "ingress", ingress, None, None, None
            return
        for i, rule in enumerate(as_list(ingress)):
            if is_unknown(rule):
                yield f"ingress[{i}]", rule, None, None, None
                continue
            rule = rule or {}
            sources = as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
            yield f"ingress[{i}]", sources, rule.get("protocol"), rule.get("fromPort"), rule.get("toPort")
    elif resource.type == GROUP_RULE:
        if props.get("type") != "ingress":
            return
        sources = as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks"))
        yield "rule", sources, props.get("protocol"), props.get("fromPort"), props.get("toPort")
    else:
        sources = [s for s in (props.get("cidrIpv4"), props.get("cidrIpv6")) if s is not None]
        yield "rule", sources, props.get("ipProtocol"), props.get("fromPort"), props.get("toPort")


def check(resource, config):
    for label, sources, protocol, from_port, to_port in _entries(resource):
        if is_unknown(sources) or any(is_unknown(s) for s in sources):
            yield cannot_check(f"{label} source CIDR")
            continue
        open_to = [s for s in sources if s in ANYWHERE]
        if not open_to:
            continue
        problem = _problem(protocol, from_port, to_port)
        if problem == "unknown":
            yield cannot_check(f"{label} protocol/ports")
        elif problem:
            yield f"{label} allows {' and '.join(open_to)} to {problem}: anyone on the internet can reach it."


RULE = ResourceRule(
    name="aws-ec2-securitygroup-disallow-open-admin-ingress",
    description="Security groups must not allow ingress from 0.0.0.0/0 or ::/0 to SSH, RDP, HTTP or all ports.",
    severity="critical",
    enforcement="mandatory",
    remediation="Limit the source to VPC CIDRs or another security group (referenced_security_group_id); reach "
                "nodes through SSM Session Manager instead of SSH, and serve UIs through internal load balancers.",
    frameworks=CIS_AWS("5.2", "5.3") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    tags=("ec2", "network", "public-access"),
    resource_types=(SECURITY_GROUP, GROUP_RULE, INGRESS_RULE),
    check=check,
)
