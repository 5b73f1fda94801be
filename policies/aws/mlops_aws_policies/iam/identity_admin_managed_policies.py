"""No administrator-level AWS-managed policy is attached to a role, user or group.

Administrator-level: AdministratorAccess, PowerUserAccess (every action outside IAM and
Organizations: data in every bucket, every key's Decrypt), *FullAccess, *AdminAccess and
*PowerUser policies (full control of one service, often including its data and its IAM hand-off).

Attachment points: the *PolicyAttachment resources, PolicyAttachment, the
*PolicyAttachmentsExclusive resources and Role.managedPolicyArns. An unknown ARN is a
customer-managed policy created in the program (AWS-managed ARNs are literals), so it passes.
"""
from __future__ import annotations

import re

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

ADMIN_ARN = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:[\w+=,.@-]+/)*"
                       r"(AdministratorAccess(?:-[\w]+)?|PowerUserAccess|[\w+=,.@-]*FullAccess"
                       r"|[\w+=,.@-]*AdminAccess|[\w+=,.@-]*PowerUser)$")

ARN_PROPS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/role:Role": "managedPolicyArns",
}


def check(resource, config):
    prop = ARN_PROPS[resource.type]
    value = resource.props.get(prop)
    if is_unknown(value) and prop.endswith("s"):
        yield cannot_check(prop)
        return
    arns = value if isinstance(value, list) else [value]
    for arn in arns:
        if isinstance(arn, str) and not is_unknown(arn) and ADMIN_ARN.match(arn):
            yield f"{prop} attaches {arn}, an administrator/full-access (or power-user) AWS-managed policy."


RULE = ResourceRule(
    name="aws-iam-identity-disallow-admin-managed-policies",
    description="IAM roles, users and groups must not get AdministratorAccess, PowerUserAccess, *FullAccess or *AdminAccess AWS-managed policies.",
    severity="critical",
    enforcement="mandatory",
    remediation="Attach a customer-managed policy that lists the needed actions on named resources instead.",
    frameworks=CIS_AWS("1.16") + SOC2("CC6.3") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    tags=("iam", "least-privilege"),
    resource_types=tuple(ARN_PROPS),
    check=check,
)
