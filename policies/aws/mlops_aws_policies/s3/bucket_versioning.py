"""Every S3 bucket keeps object versions, so an overwritten or deleted model artifact can be recovered.

MLflow writes artifacts under run ids it never rewrites, so a changed object is an accident or an
attack; versioning is also what cross-region replication requires. Read from
``BucketVersioning``(V2) resources or the bucket's own ``versioning`` block.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, StackRule, cannot_check, get, is_unknown, violation

from .._aws import BUCKET_TYPES, bucket_settings

VERSIONING_TYPES = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")


def check(stack, config):
    settings = bucket_settings(stack, *VERSIONING_TYPES)
    for bucket in stack.of_type(*BUCKET_TYPES):
        statuses = [get(s.props, "versioningConfiguration.status") for s in settings.get(bucket.urn, [])]
        if get(bucket.props, "versioning.enabled") is True:
            statuses.append("Enabled")
        if any(is_unknown(s) for s in statuses):
            yield cannot_check("versioningConfiguration.status", bucket)
        elif "Enabled" not in statuses:
            state = f"is {statuses[0]}" if statuses else "is not configured"
            yield violation(f"bucket {bucket.name}: versioning {state}; overwritten or deleted objects are lost.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-enable-versioning",
    description="S3 buckets must have versioning enabled.",
    severity="medium",
    enforcement="mandatory",
    remediation="Add aws.s3.BucketVersioning(bucket=..., versioning_configuration={'status': 'Enabled'}) "
                "(SecureBucket does), with a lifecycle rule expiring noncurrent versions.",
    frameworks=SOC2("A1.2", "CC6.1") + ISO27001("A.8.13"),
    tags=("s3", "backup"),
    resource_types=BUCKET_TYPES + VERSIONING_TYPES,
    check=check,
)
