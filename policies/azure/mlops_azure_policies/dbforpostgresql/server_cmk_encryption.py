"""PostgreSQL flexible servers must encrypt storage with a customer-managed Key Vault key."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_set, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    encryption = resource.props.get("dataEncryption")
    if is_unknown(encryption):
        yield cannot_check("dataEncryption")
        return
    kind = get(encryption, "type")
    if is_unknown(kind):
        yield cannot_check("dataEncryption.type")
        return
    if lower(kind) != "azurekeyvault":
        yield (f"dataEncryption.type is {kind or 'not set (SystemAssigned)'}: the server's data is encrypted "
               "with a Microsoft-managed key.")
        return
    if not is_set(get(encryption, "primaryKeyURI")):
        yield "dataEncryption.type is AzureKeyVault but dataEncryption.primaryKeyURI is not set."
    if not is_set(get(encryption, "primaryUserAssignedIdentityId")):
        yield "dataEncryption.type is AzureKeyVault but no primaryUserAssignedIdentityId can read the key."


RULE = ResourceRule(
    name="azure-dbforpostgresql-server-enable-cmk-encryption",
    description="PostgreSQL flexible servers encrypt data at rest with a customer-managed key from Key Vault.",
    severity="medium",
    remediation="Set dataEncryption={'type': 'AzureKeyVault', 'primaryKeyURI': <key URI>, "
                "'primaryUserAssignedIdentityId': <identity id>} and attach that user-assigned identity to the server.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("postgresql", "encryption"),
    resource_types=azure_types("azure-native:dbforpostgresql:Server"),
    check=check,
)
