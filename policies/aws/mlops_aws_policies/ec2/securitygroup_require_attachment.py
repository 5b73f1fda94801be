"""Every security group the program creates is used by something.

A group nobody references is either left over from a refactor (and may still carry rules someone
will attach by mistake) or a resource whose attachment was forgotten, leaving its workload on the
VPC default group. Use is read from the engine's dependencies: an instance, node group, database,
endpoint or another group's rule whose inputs take the group's id. Its own rules (a rule resource
whose only group dependency is this one) do not count.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, StackRule, dependents, violation

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
OWN_RULES = ("aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
             "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


def _own_rule(resource, group) -> bool:
    """A rule resource that belongs to ``group``: the only security group among its dependencies."""
    groups = {d.urn for d in resource.dependencies if d.type == SECURITY_GROUP}
    return resource.type in OWN_RULES and groups == {group.urn}


def check(stack, config):
    for group in stack.of_type(SECURITY_GROUP):
        if not [r for r in dependents(stack.resources, group) if not _own_rule(r, group)]:
            yield violation(f"security group {group.name} is attached to nothing in this program.", group)


RULE = StackRule(
    name="aws-ec2-securitygroup-require-attachment",
    description="Security groups should be attached to a resource (instance, node group, database, endpoint) of the program.",
    severity="low",
    enforcement="advisory",
    remediation="Pass the group to the resource it was made for (vpc_security_group_ids / security_group_ids), "
                "or delete it.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20"),
    tags=("ec2", "network", "hygiene"),
    check=check,
)
