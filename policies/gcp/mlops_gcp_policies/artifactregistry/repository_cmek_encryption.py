"""Artifact Registry repositories encrypt images with a customer-managed Cloud KMS key (CMEK).

Checkov calls this "CSEK", which Artifact Registry does not offer; CMEK (``kmsKeyName``) is the control.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, is_set, is_unknown


def check(resource, config):
    key = resource.props.get("kmsKeyName")
    if is_unknown(key):
        return  # an unknown key id is still a customer-managed key
    if not is_set(key):
        yield "kmsKeyName is not set: images are encrypted with Google-managed keys."


RULE = ResourceRule(
    name="gcp-artifactregistry-repository-enable-cmek-encryption",
    description="Artifact Registry repositories encrypt their contents with a customer-managed Cloud KMS key.",
    severity="medium",
    remediation="Set kms_key_name=<key id> when creating the repository (it cannot be added later) and grant the "
                "Artifact Registry service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on the key.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",  # encryption
    tags=("artifact-registry", "encryption"),
    resource_types=("gcp:artifactregistry/repository:Repository",),
    check=check,
)
