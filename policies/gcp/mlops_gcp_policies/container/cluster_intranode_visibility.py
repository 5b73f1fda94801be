"""GKE clusters enable intranode visibility, so pod-to-pod traffic on one node reaches VPC flow logs too.

Without it, traffic between two pods on the same node never leaves the node: the subnet's flow logs
and VPC firewall rules never see it (CIS GKE "Enable VPC Flow Logs and Intranode Visibility").
Autopilot clusters have it on always.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import is_autopilot


def check(resource, config):
    autopilot = is_autopilot(resource.props)
    value = resource.props.get("enableIntranodeVisibility")
    if autopilot is None or is_unknown(value):
        yield cannot_check("enableAutopilot or enableIntranodeVisibility")
    elif not autopilot and not (value is not None and truthy(value)):
        yield ("enableIntranodeVisibility is not true: traffic between pods on the same node is invisible to VPC flow "
               "logs and firewall rules.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-intranode-visibility",
    description="GKE clusters enable intranode visibility (same-node pod traffic in VPC flow logs).",
    severity="low",
    remediation="Set enable_intranode_visibility=True on the cluster (recreates the nodes of an existing cluster) and "
                "keep flow logs on its subnet.",
    frameworks=CIS_GKE("5.6.1") + SOC2("CC7.2") + ISO27001("A.8.16"),
    enforcement="advisory",  # CIS Level 2; the subnet's flow logs (mandatory) already record cross-node traffic
    tags=("gke", "logging"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
