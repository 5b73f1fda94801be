"""Pods do not mount directories of the node (hostPath volumes)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    where = len(workload.pods) > 1
    for pod in workload.pods:
        volumes = pod.spec.get("volumes")
        if is_unknown(volumes):
            yield cannot_check(f"{pod.path}.volumes")
            continue
        for i, volume in enumerate(volumes or []):
            if is_unknown(volume):
                yield cannot_check(f"{pod.path}.volumes[{i}]")
            elif volume.get("hostPath") is not None:
                path = get(volume, "hostPath.path", "?")
                yield f"volume {volume.get('name', i)!r}{' at ' + pod.path if where else ''} mounts the node path {path}."


RULE = ResourceRule(
    name="kubernetes-workload-pod-disallow-hostpath-volumes",
    description="Pods must not mount hostPath volumes.",
    severity="high",
    enforcement="advisory",
    remediation="Use emptyDir, a PersistentVolumeClaim, a ConfigMap/Secret or a CSI volume instead of hostPath.",
    frameworks=CIS_KUBERNETES("5.2.12") + SOC2("CC6.8") + ISO27001("A.8.3") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
