"""Pods and containers do not turn seccomp off (``seccompProfile.type: Unconfined``).

Unconfined lets the container make every system call the kernel offers, including the ones
container escapes rely on. Both the securityContext field and the legacy annotations
(``seccomp.security.alpha.kubernetes.io/pod``, ``container.seccomp.security.alpha.kubernetes.io/<name>``)
on the pod template are checked.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload

LEGACY_PREFIXES = ("seccomp.security.alpha.kubernetes.io/", "container.seccomp.security.alpha.kubernetes.io/")


def _unconfined(value) -> bool:
    return isinstance(value, str) and value.lower() == "unconfined"


def _annotations(resource):
    for path in ("metadata.annotations", "spec.template.metadata.annotations",
                 "spec.jobTemplate.spec.template.metadata.annotations"):
        annotations = get(resource.props, path)
        if isinstance(annotations, dict):
            for key, value in annotations.items():
                if key.startswith(LEGACY_PREFIXES) and _unconfined(value):
                    yield f"annotation {key}: unconfined turns seccomp off."


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for pod in workload.pods:
        kind = get(pod.spec, "securityContext.seccompProfile.type")
        if is_unknown(kind):
            yield cannot_check(f"{pod.path}.securityContext.seccompProfile.type")
        elif _unconfined(kind):
            yield f"the pod at {pod.path} sets seccompProfile Unconfined."
    for label, container in workload.containers:
        kind = workload.container_security(container, "seccompProfile")
        kind = get(kind, "type") if isinstance(kind, dict) else kind
        if is_unknown(kind):
            yield cannot_check(f"{label} securityContext.seccompProfile.type")
        elif _unconfined(kind):
            yield f"{label} sets seccompProfile Unconfined."
    yield from _annotations(resource)


RULE = ResourceRule(
    name="kubernetes-workload-pod-disallow-seccomp-unconfined",
    description="Pods and containers must not run with the seccomp profile Unconfined.",
    severity="high",
    enforcement="mandatory",
    remediation="Use seccompProfile {type: RuntimeDefault} (or a Localhost profile) on the pod's securityContext.",
    frameworks=CIS_KUBERNETES("5.7.2") + SOC2("CC6.8") + ISO27001("A.8.22") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
