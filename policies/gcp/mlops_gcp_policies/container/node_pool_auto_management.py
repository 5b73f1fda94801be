"""GKE node pools repair broken nodes and take security patches automatically.

``management.autoRepair`` and ``management.autoUpgrade`` defaulted to false in older pulumi-gcp /
Terraform provider versions and to true in newer ones, so the rule asks for both to be written as
true on every separate ``NodePool`` and every inline ``nodePools`` entry of a cluster.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import inline_pools, path

NODE_POOL = "gcp:container/nodePool:NodePool"


def _management(label, pool):
    if is_unknown(pool):
        yield cannot_check(f"{label} management")
        return
    missing = []
    for key, why in (("autoRepair", "unhealthy nodes are not replaced"),
                     ("autoUpgrade", "nodes miss the security patches of their GKE version")):
        value = path(pool, f"management.{key}")
        if is_unknown(value):
            yield cannot_check(f"{label} management.{key}")
        elif not (value is not None and truthy(value)):
            missing.append(f"management.{key} is not true: {why}")
    if missing:
        yield f"{label}: {'; '.join(missing)}."


def check(resource, config):
    if resource.type == NODE_POOL:
        yield from _management("node pool", resource.props)
        return
    for label, pool in inline_pools(resource.props):
        yield from _management(label, pool)


RULE = ResourceRule(
    name="gcp-container-nodepool-enable-auto-repair-upgrade",
    description="GKE node pools enable automatic node repair and automatic node upgrades.",
    severity="medium",
    remediation="Set management={'auto_repair': True, 'auto_upgrade': True} on every node pool.",
    frameworks=CIS_GKE("5.5.2", "5.5.3") + SOC2("CC7.1", "A1.2") + ISO27001("A.8.8"),
    enforcement="advisory",  # operations; the release channel keeps the control plane patched either way
    tags=("gke", "patching"),
    resource_types=("gcp:container/cluster:Cluster", NODE_POOL),
    check=check,
)
