"""Key vaults (and managed HSMs) holding CMKs must not be purgeable: a purged key makes the data unreadable."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown, truthy

from .._azure import azure_types


def check(resource, config):
    value = get(resource.props, "properties.enablePurgeProtection")
    if is_unknown(value):
        yield cannot_check("properties.enablePurgeProtection")
    elif not truthy(value):
        yield ("properties.enablePurgeProtection is not true: a deleted vault or key can be purged before its "
               "retention ends, destroying every key and the data encrypted with it.")


RULE = ResourceRule(
    name="azure-keyvault-vault-enable-purge-protection",
    description="Key vaults and managed HSMs have purge protection enabled.",
    severity="high",
    remediation="Set properties.enablePurgeProtection=True (irreversible by design) on the vault or managed HSM.",
    frameworks=CIS_AZURE("8.5") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("keyvault", "key-management"),
    resource_types=azure_types("azure-native:keyvault:Vault", "azure-native:keyvault:ManagedHsm"),
    check=check,
)
