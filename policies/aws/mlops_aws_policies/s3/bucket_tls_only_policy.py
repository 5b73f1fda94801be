"""S3 buckets deny requests that do not use TLS, through the bucket's resource policy.

The policy may be inline on the bucket (``policy``) or a separate ``BucketPolicy``; it may be a
JSON string or an object. A qualifying statement: Effect Deny, any principal, all S3 actions
(``s3:*`` or ``*``), condition ``aws:SecureTransport = false`` (Bool / BoolIfExists) or
``s3:TlsVersion`` NumericLessThan.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, violation

from .._aws import BUCKET_TYPES, linked, policy_statements

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def _denies_insecure_transport(statement) -> bool:
    if statement.allows or not statement.principal_is_anyone() or statement.actions is None:
        return False
    if not any(a in ("*", "s3:*") for a in (x.lower() for x in statement.actions)):
        return False
    for operator, entries in statement.conditions.items():
        op = operator.lower()
        for key, values in entries.items():
            key = key.lower()
            if op in ("bool", "boolifexists") and key == "aws:securetransport" and "false" in [v.lower() for v in values]:
                return True
            if op.startswith("numericlessthan") and key == "s3:tlsversion":
                return True
    return False


def _tls_only(resource) -> object:
    """True / False / None (unknown) for one policy-carrying resource; findings for unusable docs."""
    usable, findings = policy_statements(resource)
    if findings:
        return findings
    return any(_denies_insecure_transport(s) for _, statements in usable for s in statements)


def check(stack, config):
    verdicts = {}  # bucket urn -> list of results (True / False / findings)
    for policy in stack.of_type(BUCKET_POLICY):
        result = _tls_only(policy)
        for bucket in linked(stack, policy, "bucket", BUCKET_TYPES):
            verdicts.setdefault(bucket.urn, []).append((policy, result))
    for bucket in stack.of_type(*BUCKET_TYPES):
        results = list(verdicts.get(bucket.urn, []))
        if bucket.props.get("policy") not in (None, ""):
            results.append((bucket, _tls_only(bucket)))
        if any(r is True for _, r in results):
            continue
        pending = [f for _, r in results if isinstance(r, list) for f in r]
        if pending:
            yield from pending
            continue
        where = f"its policy ({', '.join(src.name for src, _ in results)})" if results else "it has no bucket policy"
        yield violation(
            f"bucket {bucket.name} accepts plain-HTTP requests: {where} lacks a Deny of s3:* for any principal "
            "when aws:SecureTransport is false.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-require-tls-policy",
    description="S3 buckets must have a bucket policy that denies any request not sent over TLS.",
    severity="high",
    enforcement="mandatory",
    remediation=(
        "Attach an aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: '*', Action: 's3:*', "
        "Resource: [<bucket ARN>, <bucket ARN>/*], Condition: {Bool: {'aws:SecureTransport': 'false'}}}."
    ),
    frameworks=CIS_AWS("2.1.1") + SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    tags=("s3", "encryption-in-transit"),
    check=check,
)
