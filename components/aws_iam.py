"""IAM policy statements that several AWS components grant with the same meaning, written once.

Why one place: a least-privilege rule that is copied by hand drifts (a dropped condition, a
region typed wrong) and the copy that drifted is the one nobody reviews. Each builder here
returns one statement as a plain dict, in the key order ``Sid, Effect, Action, Resource,
Condition`` the plans have always had, so a document built with it renders to the same bytes.

Values may be plain strings (documents built from resolved values inside an ``apply``) or
Pulumi outputs (documents rendered by ``components.documents.json_document``): a builder keeps a plain
input plain, so it serves both. What differs between the sites for a least-privilege reason
(which actions, which prefixes, which key) is a parameter; the rest is fixed here.

Beside ``components.aws_account`` (facts about the account) rather than in it: that module
reads the account, this one writes permissions.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import pulumi

# The DNS suffix of the commercial AWS partition, which most callers assume. One that knows its
# partition's suffix (AccountContext.dns_suffix) passes it: in aws-cn the value is amazonaws.com.cn.
AWS_DNS_SUFFIX = "amazonaws.com"

# What a client that owns a prefix needs (MLflow's artifact repository, Ray Train's checkpoints through
# pyarrow): read, write (multipart uploads that fail are aborted, not left to cost money) and delete.
# A reader or an append-only writer gets its own shorter list at its site.
S3_PREFIX_OWNER_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")

Actions = Union[str, Sequence[str]]
Resources = Union[pulumi.Input[str], Sequence[pulumi.Input[str]]]


def _one_or_list(value: Union[pulumi.Input[str], Sequence[pulumi.Input[str]]]) -> object:
    """A string or output stays as it is (rendered as a JSON string), a sequence becomes a JSON list."""
    return value if isinstance(value, (str, pulumi.Output)) else list(value)


def service_endpoint(service: str, region: pulumi.Input[str],
                     dns_suffix: pulumi.Input[str] = AWS_DNS_SUFFIX) -> pulumi.Input[str]:
    """``<service>.<region>.<dns suffix>``: the value of ``kms:ViaService`` for calls made through that
    service in that region. Plain inputs give a plain string, otherwise an output."""
    if isinstance(region, str) and isinstance(dns_suffix, str):
        return f"{service}.{region}.{dns_suffix}"
    return pulumi.Output.format("{0}.{1}.{2}", service, region, dns_suffix)


def kms_via_service(sid: str, actions: Actions, key_arn: Resources, service: Union[str, Sequence[str]],
                    region: pulumi.Input[str], *, dns_suffix: pulumi.Input[str] = AWS_DNS_SUFFIX,
                    s3_arns: Optional[Sequence[pulumi.Input[str]]] = None) -> dict:
    """Allow ``actions`` on exactly ``key_arn`` only when ``service`` (one name or several, e.g. "s3")
    calls KMS for the caller in ``region``: the data key of an encrypted store is usable through that
    store and nowhere else, so a leaked credential cannot decrypt the store's data by calling KMS
    directly or through another service or region.

    ``s3_arns`` narrows further to S3 objects of those buckets/objects (the ``aws:s3:arn`` encryption
    context S3 sends: the bucket ARN with S3 Bucket Keys, the object ARN without).
    """
    services = [service] if isinstance(service, str) else list(service)
    endpoints = [service_endpoint(name, region, dns_suffix) for name in services]
    condition: dict = {"StringEquals": {"kms:ViaService": endpoints[0] if isinstance(service, str) else endpoints}}
    if s3_arns is not None:
        condition["StringLike"] = {"kms:EncryptionContext:aws:s3:arn": list(s3_arns)}
    return {"Sid": sid, "Effect": "Allow", "Action": _one_or_list(actions), "Resource": _one_or_list(key_arn),
            "Condition": condition}


def s3_prefix_objects(bucket_arn: pulumi.Input[str], prefix: str) -> pulumi.Input[str]:
    """The ARN pattern of every object under ``prefix/`` of the bucket (not the bucket, not other prefixes)."""
    if isinstance(bucket_arn, str):
        return f"{bucket_arn}/{prefix}/*"
    return pulumi.Output.format("{0}/{1}/*", bucket_arn, prefix)


def s3_objects(sid: str, actions: Actions, bucket_arn: pulumi.Input[str], prefixes: Union[str, Sequence[str]]) -> dict:
    """Allow object ``actions`` on the objects under ``prefixes`` (one prefix or several) of one bucket,
    nothing on the bucket itself: listing is a separate, bucket-level grant (``s3_list``)."""
    objects = (s3_prefix_objects(bucket_arn, prefixes) if isinstance(prefixes, str)
               else [s3_prefix_objects(bucket_arn, prefix) for prefix in prefixes])
    return {"Sid": sid, "Effect": "Allow", "Action": _one_or_list(actions), "Resource": objects}


def s3_list(sid: str, bucket_arn: pulumi.Input[str], prefix_patterns: Sequence[str]) -> dict:
    """Allow ``s3:ListBucket`` on the bucket only for listings whose ``prefix`` matches ``prefix_patterns``.

    ListBucket is authorised on the bucket ARN, not on objects, so the ``s3:prefix`` condition is the only
    thing that keeps a principal from listing every key of a shared bucket. A listing without a prefix
    carries no ``s3:prefix`` key and fails this condition (see ``s3_find_bucket`` for HeadBucket).
    """
    return {"Sid": sid, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": list(prefix_patterns)}}}


def s3_find_bucket(sid: str, bucket_arn: pulumi.Input[str]) -> dict:
    """Allow HeadBucket on the bucket and nothing more.

    S3 authorises HeadBucket as ``s3:ListBucket`` with no ``s3:prefix`` key, so a prefix-conditioned
    ``s3_list`` grant alone refuses it (Feast's S3 registry store opens with HeadBucket). ``Null`` on
    ``s3:prefix`` matches exactly that request shape, so listing under any other prefix stays refused.
    """
    return {"Sid": sid, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
            "Condition": {"Null": {"s3:prefix": "true"}}}
