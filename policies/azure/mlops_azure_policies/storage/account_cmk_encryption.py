"""Storage accounts must encrypt data with a customer-managed Key Vault key."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_set, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    encryption = resource.props.get("encryption")
    if is_unknown(encryption):
        yield cannot_check("encryption")
        return
    source = get(encryption, "keySource")
    if is_unknown(source):
        yield cannot_check("encryption.keySource")
        return
    if lower(source) != "microsoft.keyvault":
        yield (f"encryption.keySource is {source or 'not set (Microsoft.Storage)'}: data is encrypted with "
               "Microsoft-managed keys, which you cannot rotate, disable or revoke.")
        return
    vault = get(encryption, "keyVaultProperties")
    if is_unknown(vault):
        yield cannot_check("encryption.keyVaultProperties")
        return
    missing = [k for k in ("keyName", "keyVaultUri") if not is_set(get(vault, k))]
    if missing:
        yield f"encryption.keySource is Microsoft.Keyvault but keyVaultProperties lacks {' and '.join(missing)}."


RULE = ResourceRule(
    name="azure-storage-account-enable-cmk-encryption",
    description="Storage accounts encrypt data at rest with a customer-managed key from Key Vault.",
    severity="medium",
    remediation="Set encryption={'keySource': 'Microsoft.Keyvault', 'keyVaultProperties': {'keyName': ..., "
                "'keyVaultUri': ...}, 'encryptionIdentity': {...}} with an identity that holds "
                "'Key Vault Crypto Service Encryption User' on the key.",
    frameworks=CIS_AZURE("3.12") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("storage", "encryption"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
