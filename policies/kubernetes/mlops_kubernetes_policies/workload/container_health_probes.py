"""Long-running containers declare liveness and readiness probes.

Without a readiness probe a Service sends requests to a pod that is still starting (MLflow running
its migrations, Feast loading the registry); without a liveness probe a hung server is never
restarted. Checked on Deployments, StatefulSets, DaemonSets and ReplicaSets (not on Jobs or
workflow steps, which run to completion), for their regular containers (init containers run to
completion too). Patches are partial and out of scope.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import group_kind, kube_types
from .._workloads import Workload

LONG_RUNNING = kube_types(*((group, kind) for group in ("apps", "extensions")
                            for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")))
PROBES = ("livenessProbe", "readinessProbe")


def check(resource, config):
    if group_kind(resource.type)[2]:
        return  # a *Patch: fields it leaves out stay as they are on the cluster
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        if not label.startswith("container "):
            continue
        missing = []
        for probe in PROBES:
            value = get(container, probe)
            if is_unknown(value):
                yield cannot_check(f"{label} {probe}")
            elif not value:
                missing.append(probe)
        if missing:
            yield f"{label} has no {' / '.join(missing)}: Kubernetes cannot tell when it is ready or hung."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-health-probes",
    description="Long-running containers declare liveness and readiness probes.",
    severity="low",
    enforcement="advisory",  # availability, not exposure; some agents (the device plugin) serve no health endpoint
    remediation="Add readinessProbe and livenessProbe (httpGet on the health endpoint, or exec/tcpSocket) to every "
                "container of the workload.",
    frameworks=CIS_KUBERNETES("5.7.1") + SOC2("A1.1") + ISO27001("A.8.6"),
    tags=("reliability",),
    resource_types=LONG_RUNNING,
    check=check,
)
