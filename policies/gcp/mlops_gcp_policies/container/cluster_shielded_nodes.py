"""GKE nodes must be Shielded VMs with verifiable node identity (on by default; must not be turned off)."""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE


def check(resource, config):
    value = resource.props.get("enableShieldedNodes")
    if is_unknown(value):
        yield cannot_check("enableShieldedNodes")
    elif value is not None and not truthy(value):
        yield ("enableShieldedNodes is false: nodes lose verifiable identity and integrity, so a compromised node "
               "can impersonate others to the control plane.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-shielded-nodes",
    description="GKE clusters keep Shielded GKE Nodes enabled.",
    severity="medium",
    remediation="Remove enable_shielded_nodes=False (the default is true) or set it to True.",
    frameworks=CIS_GKE("5.5.5") + SOC2("CC6.8") + ISO27001("A.8.9"),
    enforcement="mandatory",
    tags=("gke", "node-integrity"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
