"""KMS key policies never grant a ``*`` principal unless a condition pins down the caller.

``Principal: "*"`` / ``{"AWS": "*"}`` (string or list, JSON string or object) in an Allow
statement lets any AWS account use the key unless a condition such as ``kms:CallerAccount``,
``aws:PrincipalOrgID`` or ``aws:SourceArn`` restricts it (see _aws.PRINCIPAL_SCOPING_CONDITION_KEYS).
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import describe, policy_statements, public_principal_statements


def check(resource, config):
    usable, findings = policy_statements(resource)
    yield from findings
    for label, statements in usable:
        for index, statement in public_principal_statements(statements):
            yield (f"{label} {describe(statement, index)} allows principal \"*\" without a "
                   "condition that restricts the caller (e.g. kms:CallerAccount or aws:PrincipalOrgID).")


RULE = ResourceRule(
    name="aws-kms-key-disallow-public-principal",
    description="KMS key policies must not allow a wildcard principal without a condition restricting the caller.",
    severity="critical",
    enforcement="mandatory",
    remediation="Name the account root or role ARNs in Principal, or keep \"*\" only together with a condition "
                "such as {StringEquals: {'kms:CallerAccount': '<account id>'}}.",
    frameworks=SOC2("CC6.1", "CC6.3") + ISO27001("A.5.15") + PCI_DSS("7.2.1"),
    tags=("kms", "iam"),
    resource_types=("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy", "aws:kms/replicaKey:ReplicaKey"),
    check=check,
)
