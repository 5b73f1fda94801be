"""Every S3 bucket has a lifecycle configuration, and it aborts incomplete multipart uploads.

Large model checkpoints are uploaded in parts; a killed training job leaves its parts behind,
invisible in listings and billed forever. A lifecycle configuration is also where noncurrent
versions (kept by versioning) expire. One enabled rule with abortIncompleteMultipartUpload passes.
"""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, StackRule, as_list, cannot_check, get, is_unknown, violation

from .._aws import BUCKET_TYPES, bucket_settings

LIFECYCLE_TYPES = ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                   "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")


def _aborts(rules) -> bool:
    return any(get(r, "status") == "Enabled" and get(r, "abortIncompleteMultipartUpload.daysAfterInitiation") is not None
               for r in as_list(rules))


def check(stack, config):
    settings = bucket_settings(stack, *LIFECYCLE_TYPES)
    for bucket in stack.of_type(*BUCKET_TYPES):
        configs = settings.get(bucket.urn, [])
        inline = bucket.props.get("lifecycleRules")
        if not configs and not inline:
            yield violation(f"bucket {bucket.name} has no lifecycle configuration: incomplete multipart uploads and "
                            "noncurrent versions are kept (and billed) forever.", bucket)
            continue
        rules = [c.props.get("rules") for c in configs]
        if any(is_unknown(r) for r in rules):
            yield cannot_check("rules", bucket)
            continue
        inline_aborts = any(get(r, "enabled") is True and get(r, "abortIncompleteMultipartUploadDays") is not None
                            for r in as_list(inline) if isinstance(r, dict))
        if not inline_aborts and not any(_aborts(r) for r in rules):
            yield violation(f"bucket {bucket.name}'s lifecycle configuration does not abort incomplete multipart "
                            "uploads: parts of failed uploads stay billed forever.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-require-lifecycle-abort-uploads",
    description="S3 buckets must have a lifecycle configuration with a rule aborting incomplete multipart uploads.",
    severity="low",
    enforcement="advisory",
    remediation="Add aws.s3.BucketLifecycleConfiguration with an enabled rule "
                "abort_incomplete_multipart_upload={'days_after_initiation': 7} (SecureBucket does).",
    frameworks=SOC2("A1.1") + ISO27001("A.8.10"),
    tags=("s3", "cost", "lifecycle"),
    resource_types=BUCKET_TYPES + LIFECYCLE_TYPES,
    check=check,
)
