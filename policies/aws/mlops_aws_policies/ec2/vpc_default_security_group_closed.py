"""The default security group of every VPC allows nothing.

Anything launched without an explicit group (an ENI, a hand-made instance, a misconfigured
endpoint) lands in the VPC's default group, which AWS creates allowing all traffic between its
members and all egress. Adopting it with ``ec2.DefaultSecurityGroup`` and no rules removes those
rules; a VPC the program creates without adopting its default group keeps them.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, as_list, cannot_check, is_unknown, linked_to, violation

VPC = "aws:ec2/vpc:Vpc"
DEFAULT_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"


def check(stack, config):
    vpcs = stack.of_type(VPC)
    adopted = set()
    for group in stack.of_type(DEFAULT_GROUP):
        adopted.update(v.urn for v in linked_to(group, "vpcId", vpcs))
        for block in ("ingress", "egress"):
            rules = group.props.get(block)
            if is_unknown(rules):
                yield cannot_check(block, group)
            elif as_list(rules):
                yield violation(f"default security group {group.name} has {len(as_list(rules))} {block} rule(s): "
                                "whatever is launched without a group gets them.", group)
    for vpc in vpcs:
        if vpc.urn not in adopted:
            yield violation(f"VPC {vpc.name}'s default security group is not adopted with empty rules: it keeps AWS's "
                            "allow-all-from-members and allow-all-egress rules.", vpc)


RULE = StackRule(
    name="aws-ec2-vpc-restrict-default-security-group",
    description="The default security group of every VPC must have no ingress and no egress rules.",
    severity="medium",
    enforcement="mandatory",
    remediation="Add aws.ec2.DefaultSecurityGroup(vpc_id=vpc.id, ingress=[], egress=[]) for each VPC.",
    frameworks=CIS_AWS("5.4") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.2.1"),
    tags=("ec2", "network"),
    resource_types=(VPC, DEFAULT_GROUP),
    check=check,
)
