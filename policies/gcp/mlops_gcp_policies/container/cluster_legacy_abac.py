"""GKE must authorize with RBAC only; legacy ABAC grants broad, unaudited permissions."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE


def check(resource, config):
    value = resource.props.get("enableLegacyAbac")
    if is_unknown(value):
        yield cannot_check("enableLegacyAbac")
    elif value is not None and truthy(value):
        yield "enableLegacyAbac is true: the legacy authorizer grants permissions outside Kubernetes RBAC."


RULE = ResourceRule(
    name="gcp-container-cluster-disable-legacy-abac",
    description="GKE clusters have legacy attribute-based access control (ABAC) disabled.",
    severity="high",
    remediation="Remove enable_legacy_abac=True (the default is false) and grant access with Kubernetes RBAC.",
    frameworks=CIS_GKE("5.8.4") + SOC2("CC6.3") + ISO27001("A.5.15") + PCI_DSS("7.2.1"),
    enforcement="mandatory",
    tags=("gke", "identity"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
