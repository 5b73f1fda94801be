"""AKS control-plane logs (the audit log above all) go to Azure Monitor through a diagnostic setting.

AKS keeps no control-plane logs unless a diagnostic setting on the cluster sends them somewhere:
without kube-audit (or kube-audit-admin, the same without get/list) nobody can say who read a
Secret or exec'd into a training pod. The setting is a separate resource, matched to the cluster
by its resourceUri (literal) or the engine's dependency.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, violation

from .._azure import MANAGED_CLUSTER, azure_types, diagnostic_settings, enabled_log_categories, of_types
from .._frameworks import CIS_AKS

AUDIT = ("kube-audit", "kube-audit-admin", "audit", "allLogs")


def check(stack, config):
    clusters = of_types(stack.resources, azure_types(MANAGED_CLUSTER))
    settings = diagnostic_settings(stack.resources, clusters, lambda c: c.props.get("resourceName"))
    for cluster in clusters:
        enabled, unknown = enabled_log_categories(settings.get(cluster.urn, []))
        if enabled & set(AUDIT):
            continue
        if unknown:
            yield cannot_check("DiagnosticSetting logs", cluster)
        elif not settings.get(cluster.urn):
            yield violation(f"cluster {cluster.name} has no diagnostic setting: its control-plane and audit logs are "
                            "not kept anywhere.", cluster)
        else:
            yield violation(f"cluster {cluster.name}'s diagnostic settings send no audit log (kube-audit or "
                            "kube-audit-admin): who did what in the cluster is not recorded.", cluster)


RULE = StackRule(
    name="azure-containerservice-managedcluster-enable-diagnostic-logs",
    description="AKS clusters must send control-plane logs, including the audit log, to Azure Monitor via a diagnostic setting.",
    severity="medium",
    remediation="Add azure_native.monitor.DiagnosticSetting(resource_uri=cluster.id, workspace_id=<Log Analytics>, "
                "logs=[kube-apiserver, kube-audit-admin, kube-controller-manager, kube-scheduler, guard]) "
                "(components/monitoring does).",
    frameworks=CIS_AKS("2.1.1") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",
    tags=("aks", "logging"),
    resource_types=azure_types(MANAGED_CLUSTER, "azure-native:monitor:DiagnosticSetting"),
    check=check,
)
