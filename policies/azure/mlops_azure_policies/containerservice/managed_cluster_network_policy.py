"""AKS clusters enforce Kubernetes NetworkPolicies (a network policy engine is installed).

The platform's namespaces rely on default-deny NetworkPolicies (components/k8s/baseline.py); without
an engine (networkPolicy unset or "none") the API accepts those objects and enforces nothing, so a
compromised training pod reaches MLflow's database and every other pod.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_one_of

from .._azure import azure_types
from .._frameworks import CIS_AKS

RULE = ResourceRule(
    name="azure-containerservice-managedcluster-enable-network-policy",
    description="AKS clusters must run a network policy engine (cilium, calico or azure).",
    severity="high",
    remediation="Set networkProfile={'networkPlugin': 'azure', 'networkPluginMode': 'overlay', 'networkDataplane': "
                "'cilium', 'networkPolicy': 'cilium'} (set at creation).",
    frameworks=CIS_AKS("5.4.4") + SOC2("CC6.6") + ISO27001("A.8.22") + PCI_DSS("1.2.1"),
    enforcement="mandatory",
    tags=("aks", "network"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=require_one_of("networkProfile.networkPolicy", ("cilium", "calico", "azure"),
                         "NetworkPolicy objects are accepted but not enforced."),
)
