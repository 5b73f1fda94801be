"""IAM users get permissions only through groups or roles, never inline policies."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule


def check(resource, config):
    yield ("an inline policy is embedded in a user: it is invisible to group-based access reviews and "
           "dies with the user.")


RULE = ResourceRule(
    name="aws-iam-user-disallow-inline-policies",
    description="IAM users must not have inline policies; grant permissions through groups or roles.",
    severity="medium",
    enforcement="mandatory",
    remediation="Move the statements into a customer-managed policy attached to a group (or better, a role the "
                "user assumes), and delete the aws.iam.UserPolicy.",
    frameworks=CIS_AWS("1.15") + SOC2("CC6.3") + ISO27001("A.5.18") + PCI_DSS("7.2.1"),
    tags=("iam",),
    resource_types=("aws:iam/userPolicy:UserPolicy",),
    check=check,
)
