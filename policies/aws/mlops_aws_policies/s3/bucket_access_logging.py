"""Every S3 bucket records who reads and writes it: server access logging or CloudTrail S3 data events.

Model artifacts and feature data are what an incident review asks about ("who downloaded this
model?"); CloudTrail management events do not record object reads. A bucket passes when a
``BucketLogging`` (or the bucket's own ``logging`` block) delivers its access logs, or a CloudTrail
trail records S3 object data events for it (``eventSelectors`` data resources, or
``advancedEventSelectors`` on ``resources.type = AWS::S3::Object``). A bucket that receives access
logs is exempt (logging it into itself or another log bucket would loop or never end).
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, get, is_unknown, violation

from .._aws import BUCKET_TYPES, linked

LOGGING_TYPES = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
TRAIL = "aws:cloudtrail/trail:Trail"
S3_OBJECT = "AWS::S3::Object"


def _trail_covers(trail, bucket_name) -> bool:
    """True when the trail logs S3 object data events for every bucket or for ``bucket_name``."""
    def names_bucket(values) -> bool:
        for value in values or []:
            if not isinstance(value, str) or is_unknown(value):
                continue
            if value in ("arn:aws:s3", "arn:aws:s3:::") or (
                    isinstance(bucket_name, str) and value.startswith(f"arn:aws:s3:::{bucket_name}/")):
                return True
        return False

    for selector in trail.props.get("eventSelectors") or []:
        for resource in (selector or {}).get("dataResources") or []:
            if resource.get("type") == S3_OBJECT and names_bucket(resource.get("values")):
                return True
    for selector in trail.props.get("advancedEventSelectors") or []:
        fields = {f.get("field"): f for f in (selector or {}).get("fieldSelectors") or [] if isinstance(f, dict)}
        if S3_OBJECT not in ((fields.get("resources.type") or {}).get("equals") or []):
            continue
        arn = fields.get("resources.ARN")
        if arn is None or names_bucket(arn.get("startsWith")) or names_bucket(arn.get("equals")):
            return True
    return False


def check(stack, config):
    logged, log_targets = set(), set()
    for logging in stack.of_type(*LOGGING_TYPES):
        logged.update(b.urn for b in linked(stack, logging, "bucket", BUCKET_TYPES))
        log_targets.update(b.urn for b in linked(stack, logging, "targetBucket", BUCKET_TYPES))
    trails = stack.of_type(TRAIL)
    for bucket in stack.of_type(*BUCKET_TYPES):
        if bucket.urn in logged or bucket.urn in log_targets or get(bucket.props, "logging.targetBucket"):
            continue
        if any(_trail_covers(trail, bucket.props.get("bucket")) for trail in trails):
            continue
        yield violation(f"bucket {bucket.name} has no server access logging and no CloudTrail S3 data events: "
                        "object reads and writes are not recorded.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-enable-access-logging",
    description="S3 buckets must record object access through server access logging or CloudTrail S3 data events.",
    severity="medium",
    enforcement="mandatory",
    remediation="Add an aws.s3.BucketLogging delivering to a log bucket (SecureBucket does this by default), or a "
                "CloudTrail trail with an S3 object data-event selector for the bucket.",
    frameworks=CIS_AWS("3.8", "3.9") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    tags=("s3", "logging"),
    check=check,
)
