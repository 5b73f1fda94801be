"""AKS clusters use Azure CNI (overlay or VNet), not kubenet.

Kubenet is retired by Azure (March 2028) and supports neither Cilium nor Windows pools; with Azure
CNI pod traffic is VNet traffic that NSGs, private endpoints and flow logs see. Advisory: a cluster
on kubenet still works until the retirement date, and moving it means a rebuild or an in-place upgrade.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, require_one_of

from .._azure import azure_types

RULE = ResourceRule(
    name="azure-containerservice-managedcluster-require-azure-cni",
    description="AKS clusters should use the Azure CNI network plugin.",
    severity="low",
    remediation="Set networkProfile.networkPlugin='azure' with networkPluginMode='overlay' (in-place upgrade from kubenet).",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.22"),
    enforcement="advisory",
    tags=("aks", "network"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=require_one_of("networkProfile.networkPlugin", ("azure",), "kubenet is retired and has no Cilium dataplane."),
)
