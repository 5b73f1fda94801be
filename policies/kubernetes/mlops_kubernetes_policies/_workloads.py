"""Find the pod specs and containers of any workload kind, built-in or custom, whatever version or patch.

Built-in kinds carry one pod template. Custom resources of ML platforms carry several: an Argo
Workflow one per template (container, script, init containers, sidecars, container sets), a
Kubeflow PyTorchJob one per replica type, a RayCluster a head and each worker group, a KServe
InferenceService a predictor / transformer / explainer whose framework block (``model``,
``sklearn``, ...) is itself a container. Rules see each of them as a ``Pod`` with its containers.

``kubernetes:helm.sh/v3:Release`` renders its manifests inside the provider, so its pods are
not visible to a policy: no rule targets it (it is neither passed as checked nor failed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from mlops_policy import Resource, cannot_check, get, is_unknown

from ._kinds import KubeTypes, group_kind

BUILTIN_POD_SPEC_PATHS = {
    ("core", "Pod"): "spec",
    ("core", "ReplicationController"): "spec.template.spec",
    **{(group, kind): "spec.template.spec" for group in ("apps", "extensions")
       for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    ("batch", "Job"): "spec.template.spec",
    ("batch", "CronJob"): "spec.jobTemplate.spec.template.spec",
}
# Custom resources whose pod templates sit at fixed paths; "*" walks every list item / map value.
CUSTOM_POD_SPEC_PATHS = {
    ("kubeflow.org", "PyTorchJob"): ("spec.pytorchReplicaSpecs.*.template.spec",),
    ("kubeflow.org", "TFJob"): ("spec.tfReplicaSpecs.*.template.spec",),
    ("kubeflow.org", "MPIJob"): ("spec.mpiReplicaSpecs.*.template.spec",),
    ("kubeflow.org", "XGBoostJob"): ("spec.xgbReplicaSpecs.*.template.spec",),
    ("trainer.kubeflow.org", "TrainingRuntime"): ("spec.template.spec.replicatedJobs.*.template.spec.template.spec",),
    ("trainer.kubeflow.org", "ClusterTrainingRuntime"): ("spec.template.spec.replicatedJobs.*.template.spec.template.spec",),
    ("ray.io", "RayCluster"): ("spec.headGroupSpec.template.spec", "spec.workerGroupSpecs.*.template.spec"),
    ("ray.io", "RayJob"): ("spec.rayClusterSpec.headGroupSpec.template.spec",
                           "spec.rayClusterSpec.workerGroupSpecs.*.template.spec", "spec.submitterPodTemplate.spec"),
    ("ray.io", "RayService"): ("spec.rayClusterConfig.headGroupSpec.template.spec",
                               "spec.rayClusterConfig.workerGroupSpecs.*.template.spec"),
}
# A Kubeflow Trainer TrainJob only overrides parts of its runtime's pods (volumes, env, node placement):
# its overrides are checked at pod level; the containers come from the TrainingRuntime.
FRAGMENT_POD_SPEC_PATHS = {("trainer.kubeflow.org", "TrainJob"): ("spec.podSpecOverrides.*",)}
ARGO = "argoproj.io"
ARGO_WORKFLOW_SPEC = {"Workflow": "spec", "WorkflowTemplate": "spec", "ClusterWorkflowTemplate": "spec",
                      "CronWorkflow": "spec.workflowSpec"}
KSERVE = ("serving.kserve.io", "InferenceService")
KSERVE_COMPONENTS = ("predictor", "transformer", "explainer")
KSERVE_FRAMEWORKS = ("model", "sklearn", "xgboost", "tensorflow", "pytorch", "triton", "onnx", "pmml", "lightgbm",
                     "paddle", "huggingface", "art", "alibi")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


class _WorkloadTypes(KubeTypes):
    """Every kind above, any version, and their patches."""


WORKLOAD_TYPES = _WorkloadTypes(
    tuple(BUILTIN_POD_SPEC_PATHS) + tuple(CUSTOM_POD_SPEC_PATHS) + tuple(FRAGMENT_POD_SPEC_PATHS)
    + tuple((ARGO, k) for k in ARGO_WORKFLOW_SPEC) + (KSERVE,))


def kind_of(type_token: str) -> str:
    parsed = group_kind(type_token)
    return parsed[1] if parsed else type_token.rsplit(":", 1)[-1]


def _walk(value, parts: list, path: str):
    """(path, value) for every match of a dotted path with "*" steps; stops at unknowns."""
    if not parts:
        yield path, value
        return
    if is_unknown(value):
        yield path, value
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from _walk(item, rest, f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]")
        return
    if isinstance(value, dict) and value.get(head) is not None:
        yield from _walk(value[head], rest, f"{path}.{head}" if path else head)


@dataclass
class Pod:
    path: str                         # where the pod spec sits in the resource, for messages
    spec: dict
    containers: list = field(default_factory=list)  # (label, container dict)
    fragment: bool = False            # a partial override; its containers are not complete

    @property
    def service_account(self):
        """The service account the spec names (``serviceAccount`` is the deprecated alias), None if neither."""
        return self.spec.get("serviceAccountName") or self.spec.get("serviceAccount")


def _containers(pod: Pod, findings: list, extra: tuple = ()) -> None:
    for key in CONTAINER_LISTS:
        items = pod.spec.get(key)
        if is_unknown(items):
            findings.append(cannot_check(f"{pod.path}.{key}"))
            continue
        for i, container in enumerate(items or []):
            if is_unknown(container):
                findings.append(cannot_check(f"{pod.path}.{key}[{i}]"))
                continue
            name = container.get("name")
            label = f"{key[:-1]} {name!r}" if isinstance(name, str) and not is_unknown(name) else f"{key}[{i}]"
            pod.containers.append((label, container))
    for label, container in extra:
        if is_unknown(container):
            findings.append(cannot_check(f"{pod.path} {label}"))
        elif isinstance(container, dict):
            pod.containers.append((label, container))


def _argo_pods(resource: Resource, kind: str, findings: list) -> list:
    spec_path = ARGO_WORKFLOW_SPEC[kind]
    spec = get(resource.props, spec_path)
    if is_unknown(spec):
        findings.append(cannot_check(spec_path))
        return []
    spec = spec or {}
    shared = {k: spec[k] for k in ("securityContext", "hostNetwork", "volumes", "automountServiceAccountToken",
                                   "serviceAccountName") if k in spec}
    pods = []
    templates = spec.get("templates")
    if is_unknown(templates):
        findings.append(cannot_check(f"{spec_path}.templates"))
        return [Pod(spec_path, shared)]
    for i, template in enumerate(templates or []):
        name = template.get("name") if isinstance(template, dict) else None
        path = f"{spec_path}.templates[{name or i}]"
        if is_unknown(template):
            findings.append(cannot_check(path))
            continue
        # A template may override the workflow's security context, service account and token mount.
        pod_spec = {**shared, **{k: template[k] for k in ("securityContext", "serviceAccountName",
                                                          "automountServiceAccountToken") if k in template}}
        both = (shared.get("volumes"), template.get("volumes"))
        pod_spec["volumes"] = next((v for v in both if is_unknown(v)), None) or (both[0] or []) + (both[1] or [])
        pod_spec["initContainers"] = template.get("initContainers") or []
        pod_spec["containers"] = (template.get("sidecars") or []) + (get(template, "containerSet.containers") or [])
        pod = Pod(path, pod_spec)
        _containers(pod, findings, tuple((f"{key} of template {name or i}", template[key])
                                          for key in ("container", "script") if template.get(key) is not None))
        pods.append(pod)
    return pods or [Pod(spec_path, shared)]


def _kserve_pods(resource: Resource, findings: list) -> list:
    pods = []
    for component in KSERVE_COMPONENTS:
        spec = get(resource.props, f"spec.{component}")
        if spec is None:
            continue
        if is_unknown(spec):
            findings.append(cannot_check(f"spec.{component}"))
            continue
        pod = Pod(f"spec.{component}", spec)
        _containers(pod, findings, tuple((f"{component} {key}", spec[key]) for key in KSERVE_FRAMEWORKS if key in spec))
        pods.append(pod)
    return pods


def pods_of(resource: Resource, findings: list) -> list:
    parsed = group_kind(resource.type)
    if parsed is None:
        return []
    group, kind, _ = parsed
    if group == ARGO and kind in ARGO_WORKFLOW_SPEC:
        return _argo_pods(resource, kind, findings)
    if (group, kind) == KSERVE:
        return _kserve_pods(resource, findings)
    pods = []
    for paths, fragment in ((CUSTOM_POD_SPEC_PATHS.get((group, kind)), False),
                            (FRAGMENT_POD_SPEC_PATHS.get((group, kind)), True),
                            ((BUILTIN_POD_SPEC_PATHS[(group, kind)],) if (group, kind) in BUILTIN_POD_SPEC_PATHS else None, False)):
        for dotted in paths or ():
            for path, spec in _walk(resource.props, dotted.split("."), ""):
                if is_unknown(spec):
                    findings.append(cannot_check(path))
                    continue
                pod = Pod(path, spec or {}, fragment=fragment)
                if not fragment:
                    _containers(pod, findings)
                pods.append(pod)
    return pods


class Workload:
    """Pod specs + containers of one workload; ``findings`` holds cannot-check items for unknown parts."""

    def __init__(self, resource: Resource):
        self.resource = resource
        self.findings: list = []
        self.pods: list = pods_of(resource, self.findings)
        several = len(self.pods) > 1
        self.containers: list = []  # (label, container dict)
        self._pod_of: dict = {}
        for pod in self.pods:
            for label, container in pod.containers:
                self.containers.append((f"{pod.path} {label}" if several else label, container))
                self._pod_of[id(container)] = pod

    @property
    def spec(self) -> dict:
        """The pod spec of a single-pod workload (the first pod otherwise)."""
        return self.pods[0].spec if self.pods else {}

    @property
    def service_account(self):
        """The account the (first) pod names, by either field (`Pod.service_account`); None if none."""
        return self.pods[0].service_account if self.pods else None

    def pod_security(self, field: str, container: Optional[dict] = None):
        pod = self._pod_of.get(id(container)) if container is not None else None
        return get((pod or (self.pods[0] if self.pods else Pod("", {}))).spec, f"securityContext.{field}")

    def container_security(self, container: dict, field: str):
        return get(container, f"securityContext.{field}")

    def effective(self, container: dict, field: str) -> Optional[object]:
        """Container securityContext overrides its pod's (runAsUser, runAsNonRoot, ...)."""
        value = self.container_security(container, field)
        return self.pod_security(field, container) if value is None else value


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
