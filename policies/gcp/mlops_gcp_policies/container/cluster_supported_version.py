"""GKE clusters pin a Kubernetes minor version (minMasterVersion) still in standard support."""
from mlops_policy.versions import supported_version_rule

RULE = supported_version_rule(
    "gcp-container-cluster-require-supported-version", "GKE clusters", "gcp-kubernetes",
    ("gcp:container/cluster:Cluster",), "minMasterVersion",
    normalize=lambda value: ".".join(value.split("-")[0].split(".")[:2]))  # 1.35.1-gke.100 -> 1.35
