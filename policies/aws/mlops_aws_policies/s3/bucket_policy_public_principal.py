"""S3 bucket policies never allow ``*`` (anyone, incl. anonymous callers) without a condition naming the caller.

The account-level/bucket-level Public Access Block stops such a policy from being applied
(``blockPublicPolicy``), but it can be turned off later, and a policy written this way is a
public grant waiting for that to happen. Conditions count only when they name the caller with
a matching operator and a concrete value (see ``_aws.scoping_conditions``).
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import describe, policy_statements, public_principal_statements


def check(resource, config):
    usable, findings = policy_statements(resource, inline=False)
    yield from findings
    for label, statements in usable:
        for index, statement in public_principal_statements(statements):
            actions = ", ".join(statement.actions or ("NotAction ...",))
            yield (f"{label} {describe(statement, index)} allows {actions} to principal \"*\" with no condition that "
                   "names the caller (aws:PrincipalOrgID, aws:SourceVpce, aws:PrincipalArn ...).")


RULE = ResourceRule(
    name="aws-s3-bucket-disallow-public-policy-principal",
    description="S3 bucket policies must not allow a wildcard principal without a condition restricting the caller.",
    severity="critical",
    enforcement="mandatory",
    remediation="Name the account root or role ARNs in Principal, or keep \"*\" only with a condition such as "
                "{StringEquals: {'aws:PrincipalOrgID': 'o-...'}} or {StringEquals: {'aws:SourceVpce': 'vpce-...'}}.",
    frameworks=CIS_AWS("2.1.4") + SOC2("CC6.1", "CC6.6") + ISO27001("A.5.15", "A.8.3") + PCI_DSS("1.4.1", "7.2.1"),
    tags=("s3", "public-access"),
    resource_types=("aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"),
    check=check,
)
