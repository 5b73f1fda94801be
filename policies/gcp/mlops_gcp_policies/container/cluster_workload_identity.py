"""Pods must get Google credentials through Workload Identity, never from the node's service account.

Autopilot clusters always run Workload Identity. On Standard clusters a node pool can still
opt out with ``workloadMetadataConfig.mode = GCE_METADATA``, which hands every pod on it the
node's credentials; the rule checks inline and separate node pools for that too.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, Finding, ResourceRule, cannot_check, is_set, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import NODE_POOL, is_autopilot, node_settings, path

CLUSTER = "gcp:container/cluster:Cluster"


def _metadata_findings(label, node_config):
    mode = path(node_config, "workloadMetadataConfig.mode")
    if is_unknown(mode):
        yield cannot_check(f"{label} workloadMetadataConfig.mode")
    elif isinstance(mode, str) and mode.upper() == "GCE_METADATA":
        yield f"{label}: workloadMetadataConfig.mode is GCE_METADATA, so its pods use the node's service account."


def check(resource, config):
    if resource.type != NODE_POOL and is_autopilot(resource.props) is False and not is_set(
            path(resource.props.get("workloadIdentityConfig"), "workloadPool")):
        yield ("workloadIdentityConfig.workloadPool is not set: pods can only reach Google APIs with the node's "
               "service account, shared by every workload on the node.")
    for item in node_settings(resource):
        if isinstance(item, Finding):
            yield item
        else:
            yield from _metadata_findings(*item)


RULE = ResourceRule(
    name="gcp-container-cluster-enable-workload-identity",
    description="GKE clusters enable Workload Identity and no node pool opts out of the GKE metadata server.",
    severity="high",
    remediation="Set workload_identity_config={'workload_pool': f'{project}.svc.id.goog'} on the cluster and leave "
                "node_config.workload_metadata_config.mode at GKE_METADATA on every node pool.",
    frameworks=CIS_GKE("5.2.2", "5.4.2") + SOC2("CC6.1") + ISO27001("A.8.2") + PCI_DSS("7.2.2"),
    enforcement="mandatory",
    tags=("gke", "identity"),
    resource_types=(CLUSTER, NODE_POOL),
    check=check,
)
