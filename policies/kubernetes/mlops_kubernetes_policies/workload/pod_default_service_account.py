"""The namespace's ``default`` service account is not used.

Every pod that names no service account runs as ``default``, so a role bound to it (often to "just
make it work") reaches all of them, and its token is mounted unless told otherwise. Workloads name
their own service account, and a ``default`` ServiceAccount the program manages turns automounting off.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import group_kind, kube_types
from .._workloads import WORKLOAD_TYPES, Workload

SERVICE_ACCOUNT = kube_types(("core", "ServiceAccount"))


class _Types(tuple):
    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        return token in WORKLOAD_TYPES or token in SERVICE_ACCOUNT

    def type_patterns(self) -> list:
        return sorted(WORKLOAD_TYPES.type_patterns() + SERVICE_ACCOUNT.type_patterns())


def _service_account(resource):
    if get(resource.props, "metadata.name") != "default":
        return
    value = resource.props.get("automountServiceAccountToken")
    if is_unknown(value):
        yield cannot_check("automountServiceAccountToken")
    elif value is not False:
        yield "the default ServiceAccount does not set automountServiceAccountToken: false, so every pod gets its token."


def check(resource, config):
    if group_kind(resource.type)[2]:
        return  # a *Patch leaves the field as it is on the cluster
    if resource.type in SERVICE_ACCOUNT:
        yield from _service_account(resource)
        return
    workload = Workload(resource)
    yield from workload.findings
    several = len(workload.pods) > 1
    for pod in workload.pods:
        if pod.fragment:
            continue
        account = pod.service_account
        # No containers of its own: a workflow that runs a referenced WorkflowTemplate's pods, which keep the
        # template's service account unless this spec names another, so only an explicit "default" counts here.
        inherited = not pod.containers and account is None
        if is_unknown(account):
            yield cannot_check(f"{pod.path}.serviceAccountName")
        elif account in (None, "", "default") and not inherited:
            yield (f"the pod{' at ' + pod.path if several else ''} runs as the namespace's default service account: "
                   "give the workload its own.")


RULE = ResourceRule(
    name="kubernetes-workload-pod-disallow-default-service-account",
    description="Pods run as their own service account, and a managed default ServiceAccount does not automount its token.",
    severity="medium",
    enforcement="advisory",  # least privilege hygiene; the default account has no RBAC of its own unless granted
    remediation="Create a ServiceAccount per workload and set serviceAccountName; set automountServiceAccountToken: "
                "false on the namespace's default ServiceAccount.",
    frameworks=CIS_KUBERNETES("5.1.5") + SOC2("CC6.3") + ISO27001("A.8.2"),
    tags=("identity",),
    resource_types=_Types(("kubernetes:core/v1:ServiceAccount", "kubernetes:apps/v1:Deployment")),
    check=check,
)
