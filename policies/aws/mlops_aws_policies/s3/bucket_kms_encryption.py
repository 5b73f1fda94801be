"""S3 buckets encrypted by default with a customer-managed KMS key.

A bucket is encrypted either inline (``serverSideEncryptionConfiguration`` on the bucket, deprecated
in pulumi-aws v7 but accepted) or by a separate ``BucketServerSideEncryptionConfiguration`` resource
(v7 token; the V2 token is its alias). Only the stack can tell, so this is a stack rule.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._aws import BUCKET_TYPES, key_problem, linked

SSE_CONFIG_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _defaults(value) -> list:
    """Every applyServerSideEncryptionByDefault block under ``value`` (inline or resource shapes)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "applyServerSideEncryptionByDefault":
                found.append(item)
            else:
                found.extend(_defaults(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_defaults(item))
    return found


def _problem(config) -> object:
    """None if ``config`` sets KMS with a customer-managed key; "unknown"; or the reason it does not."""
    if is_unknown(config):
        return "unknown"
    blocks = _defaults(config)
    if not blocks:
        return "no default encryption rule is set"
    for block in blocks:
        if is_unknown(block):
            return "unknown"
        algorithm = block.get("sseAlgorithm")
        if is_unknown(algorithm):
            return "unknown"
        if algorithm not in KMS_ALGORITHMS:
            return f"default encryption uses {algorithm}, not aws:kms with a customer-managed key"
        problem = key_problem(block.get("kmsMasterKeyId"), "kmsMasterKeyId to a customer-managed KMS key")
        if problem:
            return problem
    return None


def check(stack, config):
    configs_for = {}
    for sse in stack.of_type(*SSE_CONFIG_TYPES):
        problem = _problem(sse.props.get("rules"))
        if problem == "unknown":
            yield cannot_check("rules", sse)
        elif problem:
            yield violation(f"{sse.name}: {problem}.", sse)
        for bucket in linked(stack, sse, "bucket", BUCKET_TYPES):
            configs_for.setdefault(bucket.urn, []).append((sse, problem))

    for bucket in stack.of_type(*BUCKET_TYPES):
        if bucket.urn in configs_for:
            continue  # judged (and reported) on its configuration resource
        inline = bucket.props.get("serverSideEncryptionConfiguration",
                                  bucket.props.get("serverSideEncryptionConfigurations"))
        if inline is None:
            yield violation(
                f"bucket {bucket.name} has no default encryption with a customer-managed KMS key "
                "(neither inline nor a BucketServerSideEncryptionConfiguration targets it).", bucket)
            continue
        problem = _problem(inline)
        if problem == "unknown":
            yield cannot_check("serverSideEncryptionConfiguration", bucket)
        elif problem:
            yield violation(f"bucket {bucket.name}: {problem}.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-enable-kms-encryption",
    description="S3 buckets must default-encrypt objects with a customer-managed KMS key (aws:kms or aws:kms:dsse).",
    severity="high",
    enforcement="mandatory",
    remediation=(
        "Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket with one rule: "
        "apply_server_side_encryption_by_default={sse_algorithm: 'aws:kms', kms_master_key_id: <your key ARN>} "
        "and bucket_key_enabled=True."
    ),
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("s3", "encryption"),
    check=check,
)
