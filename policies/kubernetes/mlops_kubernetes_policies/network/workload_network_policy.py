"""Every workload is selected by at least one NetworkPolicy of its namespace.

Pods no NetworkPolicy selects accept traffic from, and send it to, anything in the cluster (and
beyond): one compromised pod can reach the tracking database or the feature server. The platform's
namespaces have default-deny ingress and egress policies (``podSelector: {}``) plus per-workload
allows (components/k8s/baseline.py). Custom-resource pods (Argo, Kubeflow, Ray, KServe) are labelled by
their controllers and referenced templates, which the rule cannot see: for them any NetworkPolicy of
their namespace counts. Patches are out of scope.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, violation

from .._egress import selecting_policies, workloads
from .._kinds import group_kind


def check(stack, config):
    for pods in workloads(stack):
        if group_kind(pods.resource.type)[2]:
            continue
        if pods.namespace is None:
            yield cannot_check("metadata.namespace", pods.resource)
            continue
        policies = selecting_policies(stack, pods)
        if policies is None:
            yield cannot_check("a NetworkPolicy podSelector in its namespace", pods.resource)
        elif not policies:
            yield violation(f"{pods.namespace}/{pods.resource.name}: no NetworkPolicy selects its pods, so they accept "
                            "and open connections to anything.", pods.resource)


RULE = StackRule(
    name="kubernetes-networkpolicy-workload-require-network-policy",
    description="Every workload's pods are selected by at least one NetworkPolicy in their namespace.",
    severity="high",
    enforcement="mandatory",  # network isolation of the platform's data services
    remediation="Create a default-deny NetworkPolicy (podSelector: {}, policyTypes [Ingress, Egress]) in the namespace "
                "and allow what the workload needs (components/k8s/baseline.py does for the platform namespaces).",
    frameworks=CIS_KUBERNETES("5.3.2") + SOC2("CC6.6") + ISO27001("A.8.22") + PCI_DSS("1.3.1"),
    tags=("network",),
    check=check,
)
