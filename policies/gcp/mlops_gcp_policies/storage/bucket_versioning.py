"""Cloud Storage buckets keep object versions, so an overwrite or delete of a model artifact can be undone."""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._gcp import path


def check(resource, config):
    versioning = resource.props.get("versioning")
    enabled = path(versioning, "enabled")
    if is_unknown(versioning) or is_unknown(enabled):
        yield cannot_check("versioning.enabled")
    elif not (enabled is not None and truthy(enabled)):
        yield ("versioning.enabled is not true: an overwritten or deleted object (a registered model's artifacts) "
               "is gone for good once soft delete lapses.")


RULE = ResourceRule(
    name="gcp-storage-bucket-enable-versioning",
    description="Cloud Storage buckets enable object versioning.",
    severity="medium",
    remediation="Set versioning={'enabled': True} and a lifecycle rule that deletes noncurrent versions after N days.",
    frameworks=SOC2("A1.2", "CC6.1") + ISO27001("A.8.13"),
    enforcement="mandatory",  # integrity of registered models; DR replication needs it too
    tags=("gcs", "backup"),
    resource_types=("gcp:storage/bucket:Bucket",),
    check=check,
)
