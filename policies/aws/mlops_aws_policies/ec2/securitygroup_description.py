"""Security groups and their rules say what they are for.

A reviewer deciding whether an ingress rule may go (or an incident responder reading flow logs)
needs to know which workload it serves. EC2 fills a missing group description with "Managed by
Pulumi"/"Managed by Terraform", which says nothing, so unset counts as missing.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, as_list, cannot_check, is_unknown

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
RULE_TYPES = ("aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
              "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
DEFAULTS = ("", "Managed by Pulumi", "Managed by Terraform")


def _missing(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in DEFAULTS)


def check(resource, config):
    props = resource.props
    described = [("description", props.get("description"))]
    if resource.type == SECURITY_GROUP:
        for block in ("ingress", "egress"):
            entries = props.get(block)
            if is_unknown(entries):
                yield cannot_check(block)
                return
            described += [(f"{block}[{i}].description", e if is_unknown(e) else (e or {}).get("description"))
                          for i, e in enumerate(as_list(entries))]
    for label, value in described:
        if is_unknown(value):
            continue  # a description computed from other outputs is still a description
        if _missing(value):
            yield f"{label} is missing: say which workload the rule serves and why."


RULE = ResourceRule(
    name="aws-ec2-securitygroup-require-description",
    description="Security groups and security group rules should carry a description of their purpose.",
    severity="low",
    enforcement="advisory",
    remediation="Set description= on the security group and on each ingress/egress rule.",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.20"),
    tags=("ec2", "network", "documentation"),
    resource_types=(SECURITY_GROUP,) + RULE_TYPES,
    check=check,
)
