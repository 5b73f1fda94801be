"""Storage accounts are not reachable from every network: public access off, or network rules that deny by default.

An account without ``networkRuleSet`` (or with ``defaultAction: Allow``) accepts requests from any
IP address; with ``publicNetworkAccess: Enabled`` it does so even when rules exist for other
clients. Private endpoints keep working with either setting off.
"""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._azure import azure_types, lower


def check(resource, config):
    public = resource.props.get("publicNetworkAccess")
    action = get(resource.props, "networkRuleSet.defaultAction")
    if is_unknown(public):
        yield cannot_check("publicNetworkAccess")
        return
    if lower(public) == "enabled":
        yield "publicNetworkAccess is Enabled: the account's endpoints accept requests from the internet."
        return
    if is_unknown(action):
        yield cannot_check("networkRuleSet.defaultAction")
    elif lower(action) == "allow":
        yield "networkRuleSet.defaultAction is Allow: requests from any network are accepted."
    elif action is None and lower(public) != "disabled":
        yield ("no networkRuleSet and publicNetworkAccess is not Disabled: the account accepts requests from any "
               "network (Azure's default action is Allow).")


RULE = ResourceRule(
    name="azure-storage-account-require-network-default-deny",
    description="Storage accounts disable public network access or deny by default in their network rules.",
    severity="high",
    remediation="Set publicNetworkAccess='Disabled' and networkRuleSet={'defaultAction': 'Deny', 'bypass': 'None'}; "
                "reach the account through private endpoints.",
    frameworks=CIS_AZURE("3.8", "3.7") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",
    tags=("storage", "network", "public-exposure"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
