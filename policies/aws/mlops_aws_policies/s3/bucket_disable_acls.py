"""Every S3 bucket disables ACLs (object ownership BucketOwnerEnforced).

With ACLs enabled an object uploaded by another account (a replication source, a partner
writing training data) stays owned by that account, and per-object ACLs can grant access that no
bucket policy shows. BucketOwnerEnforced turns ACLs off: the bucket policy and IAM decide alone.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, get, is_unknown, violation

from .._aws import BUCKET_TYPES, bucket_settings

OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"


def check(stack, config):
    settings = bucket_settings(stack, OWNERSHIP)
    for bucket in stack.of_type(*BUCKET_TYPES):
        values = [get(c.props, "rule.objectOwnership") for c in settings.get(bucket.urn, [])]
        if any(is_unknown(v) for v in values):
            yield cannot_check("rule.objectOwnership", bucket)
        elif "BucketOwnerEnforced" not in values:
            state = f"object ownership is {values[0]}" if values else "no BucketOwnershipControls"
            yield violation(f"bucket {bucket.name}: {state}; ACLs stay enabled and can grant access outside the "
                            "bucket policy.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-disable-acls",
    description="S3 buckets must disable ACLs with object ownership BucketOwnerEnforced.",
    severity="high",
    enforcement="mandatory",
    remediation="Add aws.s3.BucketOwnershipControls(bucket=..., rule={'object_ownership': 'BucketOwnerEnforced'}).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.3") + PCI_DSS("7.2.1"),
    tags=("s3", "access-control"),
    resource_types=BUCKET_TYPES + (OWNERSHIP,),
    check=check,
)
