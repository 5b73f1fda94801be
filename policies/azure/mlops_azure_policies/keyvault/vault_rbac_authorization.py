"""Key Vault data access must be granted with Azure RBAC, not vault access policies."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown, truthy

from .._azure import azure_types


def check(resource, config):
    value = get(resource.props, "properties.enableRbacAuthorization")
    if is_unknown(value):
        yield cannot_check("properties.enableRbacAuthorization")
    elif value is None:
        yield ("properties.enableRbacAuthorization is not set, which Azure treats as false: data access is governed "
               "by vault access policies, outside Azure RBAC, PIM and its audit trail.")
    elif not truthy(value):
        yield "properties.enableRbacAuthorization is false: data access is governed by vault access policies."


RULE = ResourceRule(
    name="azure-keyvault-vault-enable-rbac-authorization",
    description="Key vaults authorize data-plane access with Azure RBAC instead of access policies.",
    severity="medium",
    remediation="Set properties.enableRbacAuthorization=True and replace accessPolicies with role assignments "
                "(e.g. Key Vault Crypto Service Encryption User) scoped to the vault or key.",
    frameworks=CIS_AZURE("8.6") + SOC2("CC6.3") + ISO27001("A.5.15") + PCI_DSS("7.2.1"),
    enforcement="mandatory",
    tags=("keyvault", "identity"),
    resource_types=azure_types("azure-native:keyvault:Vault"),
    check=check,
)
