"""GKE clusters are VPC-native (alias IP ranges for pods and services).

Pod addresses then come from the subnet's secondary ranges, so firewall rules, flow logs and
Private Google Access see pods as themselves, and private clusters and Dataplane V2 are possible at
all. A routes-based cluster (``networkingMode: ROUTES`` or no ``ipAllocationPolicy``) is not.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_set, is_unknown

from .._frameworks import CIS_GKE


def check(resource, config):
    mode = resource.props.get("networkingMode")
    policy = resource.props.get("ipAllocationPolicy")
    if is_unknown(mode) or is_unknown(policy):
        yield cannot_check("networkingMode or ipAllocationPolicy")
    elif (isinstance(mode, str) and mode.upper() == "ROUTES") or not is_set(policy):
        yield ("the cluster is routes-based (networkingMode ROUTES or no ipAllocationPolicy): pods get addresses "
               "outside the VPC's ranges, invisible to firewall rules and flow logs.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-vpc-native",
    description="GKE clusters are VPC-native, with alias IP ranges for pods and services.",
    severity="medium",
    remediation="Set networking_mode='VPC_NATIVE' and ip_allocation_policy={'cluster_secondary_range_name': 'pods', "
                "'services_secondary_range_name': 'services'} (cannot be changed after creation).",
    frameworks=CIS_GKE("5.6.2") + SOC2("CC6.6") + ISO27001("A.8.22"),
    enforcement="advisory",  # private nodes and network policy (mandatory rules) already require it in practice
    tags=("gke", "network"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
