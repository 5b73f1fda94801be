"""Every S3 bucket blocks public access with all four flags (bucket-level or account-level)."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._aws import BUCKET_TYPES, linked

BUCKET_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _flag_state(resource):
    """("ok" | "unknown" | "off", [flags not true])."""
    unknown = [f for f in FLAGS if is_unknown(resource.props.get(f))]
    off = [f for f in FLAGS if not is_unknown(resource.props.get(f)) and resource.props.get(f) is not True]
    if off:
        return "off", off
    return ("unknown", unknown) if unknown else ("ok", [])


def check(stack, config):
    account_ok = False
    for account in stack.of_type(ACCOUNT_PAB):
        state, flags = _flag_state(account)
        if state == "ok":
            account_ok = True
        elif state == "unknown":
            yield cannot_check(", ".join(flags), account)
        else:
            yield violation(f"account public access block {account.name} leaves {', '.join(flags)} off.", account)

    covered = set()
    for pab in stack.of_type(BUCKET_PAB):
        state, flags = _flag_state(pab)
        if state == "off":
            yield violation(f"{pab.name} leaves {', '.join(flags)} off; all four flags must be true.", pab)
        elif state == "unknown":
            yield cannot_check(", ".join(flags), pab)
        covered.update(b.urn for b in linked(stack, pab, "bucket", BUCKET_TYPES))

    if account_ok:
        return
    for bucket in stack.of_type(*BUCKET_TYPES):
        if bucket.urn not in covered:
            yield violation(f"bucket {bucket.name} has no BucketPublicAccessBlock with all four flags true.", bucket)


RULE = StackRule(
    name="aws-s3-bucket-enable-public-access-block",
    description="S3 buckets must block public ACLs and policies with all four public access block flags.",
    severity="critical",
    enforcement="mandatory",
    remediation=(
        "Add an aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, block_public_policy, "
        "ignore_public_acls and restrict_public_buckets all True (or an AccountPublicAccessBlock with all four)."
    ),
    frameworks=CIS_AWS("2.1.4") + SOC2("CC6.1", "CC6.6") + ISO27001("A.8.3") + PCI_DSS("1.4.1"),
    tags=("s3", "public-access"),
    check=check,
)
