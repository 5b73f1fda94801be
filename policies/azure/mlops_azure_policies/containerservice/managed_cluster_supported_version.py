"""AKS clusters pin a Kubernetes minor version still supported (AKS supports a minor for 12 months from its GA)."""
from mlops_policy.versions import supported_version_rule

from .._azure import azure_types

RULE = supported_version_rule(
    "azure-containerservice-managedcluster-require-supported-version", "AKS clusters", "azure-kubernetes",
    azure_types("azure-native:containerservice:ManagedCluster"), "kubernetesVersion",
    normalize=lambda value: ".".join(value.split(".")[:2]))  # 1.35.2 -> 1.35
