"""GKE clusters do not enable Kubernetes alpha features (unsupported, never upgraded, deleted after 30 days)."""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE


def check(resource, config):
    value = resource.props.get("enableKubernetesAlpha")
    if is_unknown(value):
        yield cannot_check("enableKubernetesAlpha")
    elif value is not None and truthy(value):
        yield ("enableKubernetesAlpha is true: alpha clusters run unsupported APIs, get no security patches or "
               "upgrades, and are deleted after 30 days.")


RULE = ResourceRule(
    name="gcp-container-cluster-disable-kubernetes-alpha",
    description="GKE clusters do not enable Kubernetes alpha features.",
    severity="high",
    remediation="Remove enable_kubernetes_alpha=True (the default is false).",
    frameworks=CIS_GKE("5.10.2") + SOC2("CC7.1", "A1.2") + ISO27001("A.8.8"),
    enforcement="mandatory",  # an alpha cluster cannot be patched
    tags=("gke", "patching"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
