"""Find the pod spec and containers of any workload kind, whatever API version registered it.

``kubernetes:helm.sh/v3:Release`` renders its manifests inside the provider, so its pods are
not visible to a policy: no rule targets it (it is neither passed as checked nor failed).
"""
from __future__ import annotations

from typing import Optional

from mlops_policy import Resource, cannot_check, get, is_unknown

POD_SPEC_PATHS = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
WORKLOAD_TYPES = tuple(sorted(
    f"kubernetes:{group}:{kind}"
    for group, kinds in {
        "core/v1": ("Pod", "ReplicationController"),
        "apps/v1": ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"),
        "apps/v1beta1": ("Deployment", "StatefulSet"),
        "apps/v1beta2": ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"),
        "extensions/v1beta1": ("Deployment", "DaemonSet", "ReplicaSet"),
        "batch/v1": ("Job", "CronJob"),
        "batch/v1beta1": ("CronJob",),
        "batch/v2alpha1": ("CronJob",),
    }.items()
    for kind in kinds
))
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def kind_of(type_token: str) -> str:
    return type_token.rsplit(":", 1)[-1]


def pod_spec(resource: Resource):
    """The pod spec dict, an unknown sentinel, or None when absent."""
    return get(resource.props, POD_SPEC_PATHS[kind_of(resource.type)])


class Workload:
    """Pod spec + containers of one workload; ``findings`` holds cannot-check items for unknown parts."""

    def __init__(self, resource: Resource):
        self.resource = resource
        self.findings: list = []
        self.containers: list = []  # (label, container dict)
        spec = pod_spec(resource)
        path = POD_SPEC_PATHS[kind_of(resource.type)]
        if is_unknown(spec):
            self.findings.append(cannot_check(path))
            spec = {}
        self.spec: dict = spec or {}
        for key in CONTAINER_LISTS:
            items = self.spec.get(key)
            if is_unknown(items):
                self.findings.append(cannot_check(f"{path}.{key}"))
                continue
            for i, container in enumerate(items or []):
                if is_unknown(container):
                    self.findings.append(cannot_check(f"{path}.{key}[{i}]"))
                    continue
                name = container.get("name")
                label = f"{key[:-1]} {name!r}" if isinstance(name, str) and not is_unknown(name) else f"{key}[{i}]"
                self.containers.append((label, container))

    def pod_security(self, field: str):
        return get(self.spec, f"securityContext.{field}")

    def container_security(self, container: dict, field: str):
        return get(container, f"securityContext.{field}")

    def effective(self, container: dict, field: str) -> Optional[object]:
        """Container securityContext overrides the pod's (runAsUser, runAsNonRoot, ...)."""
        value = self.container_security(container, field)
        return self.pod_security(field) if value is None else value


def check_container_setting(resource: Resource, field: str, violates, message: str):
    """Findings for a per-container securityContext ``field``: ``violates(value)`` -> "<container> <message>"."""
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        value = workload.container_security(container, field)
        if is_unknown(value):
            yield cannot_check(f"{label} securityContext.{field}")
        elif violates(value):
            yield f"{label} {message}"
