"""EKS clusters send all five control-plane log types to CloudWatch Logs.

The audit log is the only record of who read a Secret or exec'd into a training pod; the
authenticator log maps IAM principals to Kubernetes users. EKS keeps none of them unless asked.
"""
from __future__ import annotations

from mlops_policy import CIS_EKS, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def check(resource, config):
    enabled = resource.props.get("enabledClusterLogTypes")
    if is_unknown(enabled) or any(is_unknown(t) for t in as_list(enabled)):
        yield cannot_check("enabledClusterLogTypes")
        return
    missing = [t for t in LOG_TYPES if t not in as_list(enabled)]
    if missing:
        yield (f"enabledClusterLogTypes lacks {', '.join(missing)}: those control-plane events are not recorded"
               + (" (audit: who read Secrets or exec'd into pods)." if "audit" in missing else "."))


RULE = ResourceRule(
    name="aws-eks-cluster-enable-control-plane-logging",
    description="EKS clusters must enable all control-plane log types (api, audit, authenticator, controllerManager, scheduler).",
    severity="medium",
    enforcement="mandatory",
    remediation="Set enabled_cluster_log_types to all five types and create /aws/eks/<name>/cluster first with a KMS "
                "key and a retention.",
    frameworks=CIS_EKS("2.1.1") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    tags=("eks", "logging"),
    resource_types=("aws:eks/cluster:Cluster",),
    check=check,
)
