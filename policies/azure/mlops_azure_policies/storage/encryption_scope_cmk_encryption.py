"""Encryption scopes override the account's key for the blobs written under them."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_set, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    source = resource.props.get("source")
    if is_unknown(source):
        yield cannot_check("source")
        return
    if lower(source) != "microsoft.keyvault":
        yield (f"source is {source or 'not set (Microsoft.Storage)'}: blobs written with this scope use "
               "Microsoft-managed keys even in an account that uses a customer-managed key.")
        return
    key_uri = get(resource.props, "keyVaultProperties.keyUri")
    if not is_set(key_uri):
        yield "source is Microsoft.KeyVault but keyVaultProperties.keyUri is not set."


RULE = ResourceRule(
    name="azure-storage-encryptionscope-enable-cmk-encryption",
    description="Blob encryption scopes use a customer-managed Key Vault key, never Microsoft-managed keys.",
    severity="medium",
    remediation="Set source='Microsoft.KeyVault' and keyVaultProperties={'keyUri': <Key Vault key URI>} "
                "on the encryption scope.",
    frameworks=CIS_AZURE("3.12") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("storage", "encryption"),
    resource_types=azure_types("azure-native:storage:EncryptionScope"),
    check=check,
)
