"""A role trusted by an OIDC provider (GitHub Actions, EKS IRSA, ...) names which subjects may assume it.

``Principal: {Federated: <oidc-provider ARN>}`` with ``sts:AssumeRoleWithWebIdentity`` and only an
``:aud`` condition lets every token the issuer signs assume the role: any GitHub repository, any
service account of the cluster. The statement needs a ``<issuer>:sub`` condition under a matching
operator (StringEquals / StringLike) whose values name an owner: not ``*``, ``repo:*`` or
``system:serviceaccount:*``.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, is_unknown

from .._aws import describe, policy_statements

MATCHING = {"stringequals", "stringlike", "foranyvalue:stringequals", "foranyvalue:stringlike",
            "forallvalues:stringequals", "forallvalues:stringlike"}
# Subject prefixes that carry no owner yet: what follows must start with a literal.
SUBJECT_PREFIXES = ("repo:", "system:serviceaccount:")


def _names_owner(value: str) -> bool:
    if is_unknown(value):
        return True
    for prefix in SUBJECT_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    return bool(value) and value[0] not in "*?"


def _is_oidc_trust(statement) -> bool:
    federated = (statement.principals or {}).get("Federated", ())
    actions = {a.lower() for a in statement.actions or ()}
    return statement.allows and bool(federated) and bool(
        actions & {"sts:assumerolewithwebidentity", "sts:*", "*"})


def _subject_problem(statement) -> str | None:
    subjects = [(op, values) for op, entries in statement.conditions.items()
                for key, values in entries.items() if key.lower().endswith(":sub")]
    if not subjects:
        return "has no <issuer>:sub condition, so any identity the issuer signs can assume the role"
    for operator, values in subjects:
        if operator.lower() not in MATCHING:
            return f"tests :sub with {operator}, which does not limit who can assume the role"
        bad = [v for v in values if not _names_owner(v)]
        if bad or not values:
            return f"allows the subject(s) {bad or values} through {operator}, which match any repository or service account"
    return None


def check(resource, config):
    usable, findings = policy_statements(resource, props=("assumeRolePolicy",), inline=False)
    yield from findings
    for label, statements in usable:
        for index, statement in enumerate(statements):
            if not _is_oidc_trust(statement):
                continue
            problem = _subject_problem(statement)
            if problem:
                yield f"{label} {describe(statement, index)} trusts an OIDC provider but {problem}."


RULE = ResourceRule(
    name="aws-iam-role-require-oidc-subject-condition",
    description="IAM roles trusted by an OIDC provider must limit the token subject (:sub) to named repositories or service accounts.",
    severity="critical",
    enforcement="mandatory",
    remediation="Add Condition {StringEquals: {'<issuer>:sub': 'system:serviceaccount:<ns>:<sa>'}} (EKS) or "
                "{StringLike: {'token.actions.githubusercontent.com:sub': 'repo:<org>/<repo>:ref:refs/heads/main'}} (GitHub).",
    frameworks=SOC2("CC6.1", "CC6.3") + ISO27001("A.5.15", "A.8.5") + PCI_DSS("7.2.1"),
    tags=("iam", "trust", "oidc"),
    resource_types=("aws:iam/role:Role",),
    check=check,
)
