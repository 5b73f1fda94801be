"""Bucket objects must be encrypted with a Cloud KMS key the platform controls (CMEK)."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_set, is_unknown

from .._gcp import path


def check(resource, config):
    encryption = resource.props.get("encryption")
    if is_unknown(encryption):
        yield cannot_check("encryption")
    elif not is_set(path(encryption, "defaultKmsKeyName")):
        yield "encryption.defaultKmsKeyName is not set: objects are encrypted with Google-managed keys."


RULE = ResourceRule(
    name="gcp-storage-bucket-enable-cmek-encryption",
    description="Cloud Storage buckets encrypt objects by default with a customer-managed Cloud KMS key.",
    severity="medium",
    remediation="Set encryption={'default_kms_key_name': key.id} and grant the Cloud Storage service agent "
                "roles/cloudkms.cryptoKeyEncrypterDecrypter on that key.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("gcs", "encryption"),
    resource_types=("gcp:storage/bucket:Bucket",),
    check=check,
)
