"""AKS clusters take Kubernetes patch releases and node images automatically.

Patch releases carry the CVE fixes for the API server and kubelet; node images carry the OS's.
Without an upgrade channel both wait for someone to remember; the supported-version rule only
catches the minor version once AKS drops it.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._azure import azure_types, lower

CHANNELS = ("patch", "stable", "rapid", "node-image")


def check(resource, config):
    profile = resource.props.get("autoUpgradeProfile")
    channel, node = get(profile, "upgradeChannel"), get(profile, "nodeOSUpgradeChannel")
    if is_unknown(profile) or is_unknown(channel) or is_unknown(node):
        yield cannot_check("autoUpgradeProfile")
        return
    problems = []
    if lower(channel) not in CHANNELS:
        problems.append(f"autoUpgradeProfile.upgradeChannel is {channel or 'not set'}: Kubernetes patch releases are "
                        "not applied automatically")
    if lower(node) in (None, "none", "unmanaged"):
        problems.append(f"autoUpgradeProfile.nodeOSUpgradeChannel is {node or 'not set'}: node OS security updates "
                        "are not applied by AKS")
    if problems:
        yield "; ".join(problems) + "."

RULE = ResourceRule(
    name="azure-containerservice-managedcluster-enable-auto-upgrade",
    description="AKS clusters must set an automatic upgrade channel and a node OS upgrade channel.",
    severity="medium",
    remediation="Set autoUpgradeProfile={'upgradeChannel': 'patch', 'nodeOSUpgradeChannel': 'NodeImage'} and a "
                "maintenance configuration for when upgrades may run.",
    frameworks=SOC2("CC7.1") + ISO27001("A.8.8") + PCI_DSS("6.3.3"),
    enforcement="mandatory",
    tags=("aks", "patching"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=check,
)
