"""GKE nodes must have internal IP addresses only.

The cluster's ``privateClusterConfig.enablePrivateNodes`` sets the default; a node pool
(inline or a separate ``NodePool``) can override it with ``networkConfig.enablePrivateNodes``,
so an explicit false there fails too.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import inline_pools, path

NODE_POOL = "gcp:container/nodePool:NodePool"


def _pool_override(label, pool):
    value = path(pool, "networkConfig.enablePrivateNodes")
    if is_unknown(pool) or is_unknown(value):
        yield cannot_check(f"{label} networkConfig.enablePrivateNodes")
    elif value is not None and not truthy(value):
        yield f"{label}: networkConfig.enablePrivateNodes is false, so its nodes get public IP addresses."


def check(resource, config):
    if resource.type == NODE_POOL:
        yield from _pool_override("node pool", resource.props)
        return
    private = path(resource.props.get("privateClusterConfig"), "enablePrivateNodes")
    if is_unknown(private):
        yield cannot_check("privateClusterConfig.enablePrivateNodes")
    elif not (private is not None and truthy(private)):
        yield "privateClusterConfig.enablePrivateNodes is not true: nodes get public IP addresses."
    for label, pool in inline_pools(resource.props):
        yield from _pool_override(label, pool)


RULE = ResourceRule(
    name="gcp-container-cluster-enable-private-nodes",
    description="GKE cluster nodes have private IP addresses only, in every node pool.",
    severity="high",
    remediation="Set private_cluster_config={'enable_private_nodes': True, 'master_ipv4_cidr_block': ...} and give "
                "nodes egress through Cloud NAT; do not set network_config.enable_private_nodes=False on node pools.",
    frameworks=CIS_GKE("5.6.5") + SOC2("CC6.6") + ISO27001("A.8.22") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("gke", "public-exposure"),
    resource_types=("gcp:container/cluster:Cluster", NODE_POOL),
    check=check,
)
