"""Pods do not mount a Kubernetes API token unless they call the API.

A mounted service-account token lets anyone who gets code execution in the container talk to the
Kubernetes API as that service account. The platform's pods set ``automountServiceAccountToken:
false``; Google/Azure/AWS workload identity uses its own projected token, not this one. A pod that
really calls the API (an operator, the Argo executor) names its service account in
``allowedServiceAccounts`` (config) or is waived.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._kinds import group_kind
from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    if group_kind(resource.type)[2]:
        return  # a *Patch leaves the field as it is on the cluster
    allowed = set(config.get("allowedServiceAccounts") or [])
    workload = Workload(resource)
    yield from workload.findings
    several = len(workload.pods) > 1
    for pod in workload.pods:
        if pod.fragment:
            continue
        value = pod.spec.get("automountServiceAccountToken")
        account = pod.service_account or "default"
        # No containers of its own: a workflow that runs a referenced WorkflowTemplate's pods, which inherit
        # the template's setting unless this spec overrides it, so only an explicit true counts here.
        inherited = not pod.containers and value is None
        if is_unknown(value) or is_unknown(account):
            yield cannot_check(f"{pod.path}.automountServiceAccountToken")
        elif value is not False and not inherited and account not in allowed:
            yield (f"the pod{' at ' + pod.path if several else ''} mounts the API token of service account "
                   f"{account} (automountServiceAccountToken is not false).")


RULE = ResourceRule(
    name="kubernetes-workload-pod-disable-service-account-token-automount",
    description="Pods set automountServiceAccountToken to false unless their service account is allowed to call the API.",
    severity="medium",
    enforcement="advisory",  # operators and workflow executors need the token; they are allowed by config or waived
    remediation="Set automountServiceAccountToken: false in the pod spec; for pods that call the Kubernetes API, list "
                "their service account in allowedServiceAccounts.",
    frameworks=CIS_KUBERNETES("5.1.6") + SOC2("CC6.1") + ISO27001("A.8.2") + PCI_DSS("7.2.1"),
    tags=("identity",),
    config={"allowedServiceAccounts": {"type": "array", "items": {"type": "string"}, "default": [],
                                       "description": "Service accounts whose pods may mount an API token."}},
    resource_types=WORKLOAD_TYPES,
    check=check,
)
