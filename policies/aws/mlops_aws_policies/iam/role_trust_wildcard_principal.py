"""Role trust policies never let "*" assume the role unless a condition pins down the caller."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import describe, policy_statements, public_principal_statements


def check(resource, config):
    usable, findings = policy_statements(resource, props=("assumeRolePolicy",), inline=False)
    yield from findings
    for label, statements in usable:
        for index, statement in public_principal_statements(statements):
            yield (f"{label} {describe(statement, index)} lets any principal assume the role; name the trusted "
                   "account/role/service or add an aws:PrincipalOrgID / aws:PrincipalArn condition.")


RULE = ResourceRule(
    name="aws-iam-role-disallow-wildcard-trust-principal",
    description="IAM role trust policies must not allow a wildcard principal to assume the role without a restricting condition.",
    severity="critical",
    enforcement="mandatory",
    remediation="Put the trusted principal (account root, role ARN, service or OIDC provider) in Principal; for "
                "IRSA use Federated: <OIDC provider ARN> with a <issuer>:sub condition.",
    frameworks=SOC2("CC6.1", "CC6.3") + ISO27001("A.5.15", "A.8.2") + PCI_DSS("7.2.1"),
    tags=("iam", "trust"),
    resource_types=("aws:iam/role:Role",),
    check=check,
)
