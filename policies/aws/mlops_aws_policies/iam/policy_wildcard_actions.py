"""Identity policies never allow ``Action: "*"`` or ``service:*`` (nor an Allow with NotAction)."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, is_unknown

from .._aws import describe, policy_statements
from ._actions import is_service_wildcard

POLICY_TYPES = (
    "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role",
)


def check(resource, config):
    usable, findings = policy_statements(resource)
    yield from findings
    for label, statements in usable:
        for index, statement in enumerate(statements):
            if not statement.allows:
                continue
            where = f"{label} {describe(statement, index)}"
            if statement.not_actions is not None:
                yield f"{where} allows NotAction {list(statement.not_actions)}: every other action of every service."
                continue
            wild = [a for a in statement.actions or () if not is_unknown(a) and is_service_wildcard(a)]
            if wild:
                yield f"{where} allows {', '.join(wild)}: name the actions the workload needs."


RULE = ResourceRule(
    name="aws-iam-policy-disallow-wildcard-actions",
    description="IAM identity policies must not allow every action (\"*\") or every action of a service (\"service:*\").",
    severity="critical",
    enforcement="mandatory",
    remediation="Replace the wildcard with the specific actions needed (IAM Access Analyzer can generate them "
                "from CloudTrail activity).",
    frameworks=CIS_AWS("1.16") + SOC2("CC6.1", "CC6.3") + ISO27001("A.8.2", "A.5.15") + PCI_DSS("7.2.2"),
    tags=("iam", "least-privilege"),
    resource_types=POLICY_TYPES,
    check=check,
)
