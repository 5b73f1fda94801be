"""Buckets must refuse any grant to allUsers / allAuthenticatedUsers."""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown


def check(resource, config):
    value = resource.props.get("publicAccessPrevention")
    if is_unknown(value):
        yield cannot_check("publicAccessPrevention")
    elif not isinstance(value, str) or value.strip().lower() != "enforced":
        yield (f"publicAccessPrevention is {value or 'not set (inherited)'}: the bucket can be made public unless an "
               "organization policy happens to forbid it.")


RULE = ResourceRule(
    name="gcp-storage-bucket-enforce-public-access-prevention",
    description="Cloud Storage buckets enforce public access prevention.",
    severity="high",
    remediation="Set public_access_prevention='enforced' on the bucket.",
    frameworks=CIS_GCP("5.1") + SOC2("CC6.1") + ISO27001("A.8.3") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("gcs", "public-exposure"),
    resource_types=("gcp:storage/bucket:Bucket",),
    check=check,
)
