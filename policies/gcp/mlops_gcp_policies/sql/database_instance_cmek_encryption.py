"""Cloud SQL data must be encrypted with a Cloud KMS key the platform controls (CMEK)."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, is_set


def check(resource, config):
    # An unknown key name (a key created by the same program) counts as set.
    if not is_set(resource.props.get("encryptionKeyName")):
        yield "encryptionKeyName is not set: the instance's disks and backups use Google-managed keys."


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-enable-cmek-encryption",
    description="Cloud SQL instances encrypt data at rest with a customer-managed Cloud KMS key.",
    severity="medium",
    remediation="Set encryption_key_name=key.id (a key in the instance's region) and grant the Cloud SQL service "
                "agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it; CMEK can only be chosen at creation.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("cloudsql", "encryption"),
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
