"""Bucket access must be governed by IAM alone, not by per-object ACLs."""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy


def check(resource, config):
    value = resource.props.get("uniformBucketLevelAccess")
    if is_unknown(value):
        yield cannot_check("uniformBucketLevelAccess")
    elif not truthy(value):
        yield ("uniformBucketLevelAccess is not true: object ACLs can grant access (even to allUsers) that IAM "
               "policies and audits do not show.")


RULE = ResourceRule(
    name="gcp-storage-bucket-enable-uniform-access",
    description="Cloud Storage buckets use uniform bucket-level access (IAM only, no object ACLs).",
    severity="medium",
    remediation="Set uniform_bucket_level_access=True on the bucket and grant access with bucket IAM bindings.",
    frameworks=CIS_GCP("5.2") + SOC2("CC6.1") + ISO27001("A.5.15") + PCI_DSS("7.2.1"),
    enforcement="mandatory",
    tags=("gcs", "identity"),
    resource_types=("gcp:storage/bucket:Bucket",),
    check=check,
)
