"""Helpers shared by the AWS rules: key references, resource correlation, policy documents."""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

from mlops_policy import (
    PolicyDocumentError, Resource, Stack, cannot_check, correlate, is_unknown, parse_policy_document, violation,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def is_customer_managed_key(value) -> bool:
    """A KMS key reference that is customer managed.

    Unknown counts as customer managed: AWS-managed keys are always written as literals
    (``alias/aws/<service>``), an unknown value is a key created or looked up by the program.
    """
    if value is None or value == "":
        return False
    if is_unknown(value):
        return True
    return "alias/aws/" not in str(value)


def key_problem(value, what: str = "a customer-managed KMS key") -> Optional[str]:
    """None when ``value`` names a customer-managed key, else why not."""
    if value is None or value == "":
        return f"no KMS key is set; set {what}"
    if not is_customer_managed_key(value):
        return f"uses the AWS-managed key {value}; use {what}"
    return None


def region_of(resource: Resource) -> Optional[str]:
    """Effective region: the resource's own ``region`` input (pulumi-aws v7), else its provider's."""
    region = resource.props.get("region") or resource.provider_props.get("region")
    return None if is_unknown(region) else region


def linked(stack: Stack, source: Resource, prop: str, target_types: Iterable[str],
           target_keys: Iterable[str] = ("bucket",)) -> list:
    """The resources of ``target_types`` that ``source.props[prop]`` refers to (see ``correlate``).

    A literal names a target when it equals one of its ``target_keys`` inputs or its bucket ARN.
    """
    target_keys = tuple(target_keys)

    def names(target: Resource, value: str) -> bool:
        bucket = target.props.get("bucket")
        return any(target.props.get(k) == value for k in target_keys) or \
            (isinstance(bucket, str) and value == f"arn:aws:s3:::{bucket}")

    return correlate(source, prop, stack.of_type(*target_types), names).matches


def documents(resource: Resource, props: Iterable[str] = ("policy",), inline: bool = True) -> Iterator[tuple]:
    """(label, document) for each policy document the resource carries, incl. Role.inlinePolicies."""
    for prop in props:
        if prop in resource.props and resource.props[prop] not in (None, ""):
            yield prop, resource.props[prop]
    if not inline:
        return
    policies = resource.props.get("inlinePolicies")
    if is_unknown(policies):
        yield "inlinePolicies", policies
    elif isinstance(policies, list):
        for i, item in enumerate(policies):
            if is_unknown(item):
                yield f"inlinePolicies[{i}]", item
            elif isinstance(item, dict) and item.get("policy") not in (None, ""):
                yield f"inlinePolicies[{i}] ({item.get('name', '')})", item["policy"]


def policy_statements(resource: Resource, props: Iterable[str] = ("policy",), inline: bool = True) -> tuple:
    """([(label, statements)], [findings]) for the resource's documents.

    An unknown document gives a cannot-check finding; a malformed one a violation (AWS would
    reject it, and a rule must not pass what it cannot read).
    """
    usable, findings = [], []
    for label, document in documents(resource, props, inline):
        try:
            parsed = parse_policy_document(document)
        except PolicyDocumentError as exc:
            findings.append(violation(f"{label}: {exc}", resource))
            continue
        if parsed is None:
            findings.append(cannot_check(f"{label} (policy document)", resource))
        else:
            usable.append((label, parsed))
    return usable, findings


# Condition keys that restrict WHO a "*" principal can be (aws:PrincipalOrgID, etc.).
PRINCIPAL_SCOPING_CONDITION_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:SourceAccount", "aws:SourceArn",
    "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceOwner", "aws:SourceVpc", "aws:SourceVpce",
    "aws:userid", "aws:username", "kms:CallerAccount",
))


# Operators under which a condition names who may call. Negated operators (StringNotEquals,
# ArnNotLike, ...) open access to everyone else, ``...IfExists`` passes a request that lacks the key,
# and ``Null`` only tests presence: none of them pins the caller down.
SCOPING_OPERATORS = frozenset(o.lower() for o in (
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
    "ForAnyValue:StringEquals", "ForAnyValue:StringLike", "ForAllValues:StringEquals", "ForAllValues:StringLike",
    "ForAnyValue:StringEqualsIgnoreCase",
))
_WILDCARDS = ("*", "?")


def _value_scopes(key: str, value: str) -> bool:
    """A condition value that names one account/org/caller: no wildcard where the owner is named.

    ARN values may wildcard the resource part within a named account (``arn:aws:iam::123456789012:role/ci-*``)
    but not the account (``arn:aws:iam::*:role/ci-*``); other values (account ids, org ids, VPCs) take none.
    """
    if is_unknown(value):
        return True  # a reference to a resource of the program (an org id, a role ARN): a concrete value
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        return len(parts) == 6 and not any(w in ":".join(parts[:5]) for w in _WILDCARDS) and parts[5] not in ("*", "")
    return value != "" and not any(w in value for w in _WILDCARDS)


def scoping_conditions(statement) -> list:
    """The (operator, key) pairs of ``statement`` that restrict the caller to named principals."""
    found = []
    for operator, entries in statement.conditions.items():
        if operator.lower() not in SCOPING_OPERATORS:
            continue
        for key, values in entries.items():
            if key.lower() in PRINCIPAL_SCOPING_CONDITION_KEYS and values and \
                    all(_value_scopes(key, v) for v in values):
                found.append((operator, key))
    return found


def public_principal_statements(statements) -> list:
    """(index, statement) of Allow statements open to anyone, with no condition pinning the caller down.

    A condition counts only with a matching (not negated, not IfExists) operator and values without
    wildcards where the account is named: ``StringNotEquals kms:CallerAccount`` or
    ``aws:PrincipalArn arn:aws:iam::*:role/x`` leave the statement open.
    """
    return [(i, s) for i, s in enumerate(statements)
            if s.allows and s.principal_is_anyone() and not scoping_conditions(s)]


def describe(statement, index: int) -> str:
    return f"statement {statement.sid!r}" if statement.sid else f"statement #{index + 1}"


def require_key(resource: Resource, prop: str, what: str) -> Iterator:
    """Findings for a data store whose ``prop`` must name a customer-managed KMS key."""
    problem = key_problem(resource.props.get(prop), f"{prop} to a customer-managed KMS key")
    if problem:
        yield f"{what} {problem}."


def bucket_settings(stack: Stack, *setting_types: str) -> dict:
    """bucket URN -> the setting resources (BucketVersioning, BucketOwnershipControls, ...) that name it."""
    found: dict = {}
    for setting in stack.of_type(*setting_types):
        for bucket in linked(stack, setting, "bucket", BUCKET_TYPES):
            found.setdefault(bucket.urn, []).append(setting)
    return found
