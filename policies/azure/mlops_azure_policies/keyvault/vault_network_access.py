"""Key vaults are not reachable from public networks: public access Disabled and a firewall that denies by default.

The vaults hold the CMKs of every data store and are used only through private endpoints and by
trusted Azure services (storage, PostgreSQL, disk encryption). ``publicNetworkAccess: Disabled``
closes the public endpoint; ``networkAcls.defaultAction: Deny`` is what still applies if someone
re-enables it (and what the trusted-services bypass hangs off).
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    public = get(resource.props, "properties.publicNetworkAccess")
    action = get(resource.props, "properties.networkAcls.defaultAction")
    if is_unknown(public) or is_unknown(action):
        yield cannot_check("properties.publicNetworkAccess/networkAcls.defaultAction")
        return
    problems = []
    if lower(public) != "disabled":
        problems.append(f"properties.publicNetworkAccess is {public or 'not set (Enabled)'}: the vault's endpoint "
                        "answers requests from the internet")
    if lower(action) != "deny":
        problems.append(f"properties.networkAcls.defaultAction is {action or 'not set (Allow)'}: the vault firewall "
                        "admits every network")
    if problems:
        yield "; ".join(problems) + "."

RULE = ResourceRule(
    name="azure-keyvault-vault-disallow-public-network-access",
    description="Key vaults must disable public network access and set their firewall's default action to Deny.",
    severity="high",
    remediation="Set properties.publicNetworkAccess='Disabled' and properties.networkAcls={'defaultAction': 'Deny', "
                "'bypass': 'AzureServices'}; reach the vault through a private endpoint.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",
    tags=("keyvault", "network", "public-access"),
    resource_types=azure_types("azure-native:keyvault:Vault"),
    check=check,
)
