"""EKS clusters pin a Kubernetes version still in standard support."""
from mlops_policy.versions import supported_version_rule

RULE = supported_version_rule(
    "aws-eks-cluster-require-supported-version", "EKS clusters", "aws-kubernetes", ("aws:eks/cluster:Cluster",), "version")
