"""GKE clusters enforce Kubernetes NetworkPolicies.

The platform isolates every namespace with default-deny NetworkPolicies; on GKE they are enforced only
by GKE Dataplane V2 (``datapathProvider: ADVANCED_DATAPATH``) or the legacy Calico add-on
(``networkPolicy.enabled``). Without either, the policies are accepted and silently ignored.
Autopilot clusters run Dataplane V2 always.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import is_autopilot, path


def check(resource, config):
    autopilot = is_autopilot(resource.props)
    datapath = resource.props.get("datapathProvider")
    calico = path(resource.props.get("networkPolicy"), "enabled")
    if autopilot is None or is_unknown(datapath) or is_unknown(calico):
        yield cannot_check("enableAutopilot, datapathProvider or networkPolicy.enabled")
    elif not autopilot and datapath != "ADVANCED_DATAPATH" and not (calico is not None and truthy(calico)):
        yield ("NetworkPolicies are not enforced (datapathProvider is not ADVANCED_DATAPATH and networkPolicy.enabled "
               "is not true): every default-deny policy is silently ignored.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-network-policy",
    description="GKE clusters enforce NetworkPolicies (Dataplane V2 or the network policy add-on).",
    severity="high",
    remediation="Set datapath_provider='ADVANCED_DATAPATH' (GKE Dataplane V2) when creating the cluster.",
    frameworks=CIS_GKE("5.6.7") + SOC2("CC6.6") + ISO27001("A.8.22") + PCI_DSS("1.3.1"),
    enforcement="mandatory",  # network isolation the platform's NetworkPolicies rely on
    tags=("gke", "network"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
