"""AKS clusters must not hand out static cluster-admin credentials."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._azure import azure_types
from .._frameworks import CIS_AKS


def check(resource, config):
    value = resource.props.get("disableLocalAccounts")
    if is_unknown(value):
        yield cannot_check("disableLocalAccounts")
    elif not truthy(value):
        yield ("disableLocalAccounts is not true: 'az aks get-credentials --admin' returns a static cluster-admin "
               "certificate that bypasses Entra ID and cannot be revoked per user.")


RULE = ResourceRule(
    name="azure-containerservice-managedcluster-disable-local-accounts",
    description="AKS clusters disable local accounts so every identity comes from Entra ID.",
    severity="high",
    remediation="Set disableLocalAccounts=True together with aadProfile={'managed': True, 'enableAzureRBAC': True, "
                "'adminGroupObjectIDs': [...]}.",
    frameworks=CIS_AKS("5.5.1") + SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.2.2"),
    enforcement="mandatory",
    tags=("aks", "identity"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=check,
)
