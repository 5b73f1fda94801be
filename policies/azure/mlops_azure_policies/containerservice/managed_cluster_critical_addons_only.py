"""AKS System pools run only critical add-ons (tainted ``CriticalAddonsOnly=true:NoSchedule``).

The System pool hosts CoreDNS, metrics-server, the CSI drivers and the network agents; an application
pod scheduled there competes with them for CPU and memory (a noisy MLflow or Grafana can starve DNS
for the whole cluster) and shares their nodes' blast radius. The taint keeps every pod that does not
tolerate it on User pools (Checkov CKV_AZURE_232). Read on the cluster's inline pools and on separate
AgentPool resources whose mode is System; User pools are not judged.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import AKS_TYPES, lower, node_pools

TAINT_KEY = "criticaladdonsonly"
EFFECTS = ("noschedule", "noexecute")


def _critical_only(taints) -> bool:
    for taint in taints or []:
        key, _, rest = str(taint).partition("=")
        effect = rest.rpartition(":")[2] if ":" in rest else ""
        if key.strip().lower() == TAINT_KEY and effect.strip().lower() in EFFECTS:
            return True
    return False


def check(resource, config):
    for label, pool in node_pools(resource):
        if is_unknown(pool):
            yield cannot_check(label)
            continue
        mode = pool.get("mode")
        if is_unknown(mode):
            yield cannot_check(f"{label}.mode" if label else "mode")
            continue
        if lower(mode) != "system":
            continue
        taints = pool.get("nodeTaints")
        where = f"{label}.nodeTaints" if label else "nodeTaints"
        if is_unknown(taints) or any(is_unknown(t) for t in taints or []):
            yield cannot_check(where)
        elif not _critical_only(taints):
            yield f"{where} has no CriticalAddonsOnly=true:NoSchedule taint: application pods can run on the System pool."


RULE = ResourceRule(
    name="azure-containerservice-nodepool-system-critical-addons-only",
    description="AKS System node pools must be tainted CriticalAddonsOnly=true:NoSchedule so only critical add-ons run there.",
    severity="medium",
    remediation="Add nodeTaints=['CriticalAddonsOnly=true:NoSchedule'] to every System pool and give the workloads "
                "an untainted User pool (components/cluster/azure.py: the platform pool).",
    frameworks=SOC2("A1.1", "CC7.2") + ISO27001("A.8.6"),
    enforcement="mandatory",
    tags=("aks", "availability"),
    resource_types=AKS_TYPES,
    check=check,
)
