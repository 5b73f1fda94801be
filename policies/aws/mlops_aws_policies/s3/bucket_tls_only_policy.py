"""S3 buckets deny requests that do not use TLS, through the bucket's resource policy.

The policy may be inline on the bucket (``policy``) or a separate ``BucketPolicy``; it may be a
JSON string or an object. A qualifying statement: Effect Deny, any principal, all S3 actions
(``s3:*`` or ``*``), condition ``aws:SecureTransport = false`` (Bool / BoolIfExists) or
``s3:TlsVersion`` NumericLessThan, and ``Resource`` covering both ``arn:aws:s3:::<bucket>`` and
``arn:aws:s3:::<bucket>/*`` of that same bucket (a deny on another bucket, or on the objects only,
leaves this one open to plain HTTP).

S3 keeps one policy per bucket: with two BucketPolicy resources on one bucket the last one applied
replaces the other, so which statements hold depends on update order. That is flagged too.
"""
from __future__ import annotations

import fnmatch

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._aws import BUCKET_TYPES, linked, policy_statements

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def _covers(statement, bucket_name) -> object:
    """True when the statement's Resource covers the bucket and its objects; None when the name is unknown."""
    if statement.resources is None:
        return False
    patterns = list(statement.resources)
    if any(p == "*" for p in patterns):
        return True
    if not isinstance(bucket_name, str) or is_unknown(bucket_name):
        return None
    arn = f"arn:aws:s3:::{bucket_name}"
    return all(any(fnmatch.fnmatchcase(target, p) for p in patterns) for target in (arn, f"{arn}/*"))


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


def _tls_only(resource, bucket_name) -> object:
    """True / False / None (bucket name unknown) for one policy-carrying resource; findings for unusable docs."""
    usable, findings = policy_statements(resource)
    if findings:
        return findings
    covers = [_covers(s, bucket_name) for _, statements in usable for s in statements if _denies_insecure_transport(s)]
    if any(c is True for c in covers):
        return True
    return None if any(c is None for c in covers) else False


def check(stack, config):
    verdicts = {}  # bucket urn -> list of (source, result)
    for policy in stack.of_type(BUCKET_POLICY):
        for bucket in linked(stack, policy, "bucket", BUCKET_TYPES):
            # The policy's bucket input (the bucket's id, i.e. its name) or, while that is unknown, the
            # bucket's own name input (the CLI fills in an auto-name at preview).
            name = policy.props.get("bucket")
            if not isinstance(name, str) or is_unknown(name):
                name = bucket.props.get("bucket")
            verdicts.setdefault(bucket.urn, []).append((policy, _tls_only(policy, name)))
    for bucket in stack.of_type(*BUCKET_TYPES):
        results = list(verdicts.get(bucket.urn, []))
        if len(results) > 1:
            yield violation(
                f"bucket {bucket.name} has {len(results)} BucketPolicy resources ({', '.join(s.name for s, _ in results)}); "
                "S3 keeps only the last one applied. Merge their statements into one BucketPolicy.", bucket)
            continue
        if bucket.props.get("policy") not in (None, ""):
            results.append((bucket, _tls_only(bucket, bucket.props.get("bucket"))))
        if any(r is True for _, r in results):
            continue
        pending = [f for _, r in results if isinstance(r, list) for f in r]
        if pending:
            yield from pending
            continue
        if any(r is None for _, r in results):
            yield cannot_check("bucket name (to match the TLS deny's Resource)", bucket)
            continue
        where = f"its policy ({', '.join(src.name for src, _ in results)})" if results else "it has no bucket policy"
        yield violation(
            f"bucket {bucket.name} accepts plain-HTTP requests: {where} lacks a Deny of s3:* for any principal "
            "when aws:SecureTransport is false on both the bucket ARN and <bucket ARN>/*.", bucket)


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
