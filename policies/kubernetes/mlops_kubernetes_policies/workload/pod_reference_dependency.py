"""A workload that reads a Secret or ConfigMap another resource of the program makes depends on that resource.

Pulumi creates what does not depend on each other in parallel, and waits for a Deployment to become
ready. A pod whose Secret does not exist yet cannot start; when the Secret waits for a database (or
an endpoint that exists only after a replica does), the Deployment's readiness wait runs out first.
References come from the pod spec (env ``secretKeyRef``/``configMapKeyRef``, ``envFrom``, secret and
configMap volumes, projected sources); producers are Secrets and ConfigMaps with that name in the
namespace, and External Secrets Operator ``ExternalSecret`` resources whose target is that name. The
dependency may be the workload's own or one of its parent components' (a component's children
register only once its dependencies exist). Objects the program does not make are not checked.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, SOC2, StackRule, created_after, get, is_unknown, violation

from .._workloads import WORKLOAD_TYPES, Workload

PRODUCER_KINDS = {"kubernetes:core/v1:Secret": "Secret", "kubernetes:core/v1:ConfigMap": "ConfigMap"}
EXTERNAL_SECRET = ":ExternalSecret"  # external-secrets.io, any version: makes Secret spec.target.name


def _namespace(resource):
    value = get(resource.props, "metadata.namespace")
    return None if is_unknown(value) else (value or "default")


def produced(stack) -> dict:
    """(kind, namespace or None, name) -> producer resources."""
    found: dict = {}
    for resource in stack.resources:
        name = get(resource.props, "metadata.name")
        if resource.type in PRODUCER_KINDS:
            kind = PRODUCER_KINDS[resource.type]
        elif resource.type.startswith("kubernetes:external-secrets.io/") and resource.type.endswith(EXTERNAL_SECRET):
            kind, name = "Secret", get(resource.props, "spec.target.name") or name
        else:
            continue
        if isinstance(name, str) and not is_unknown(name):
            found.setdefault((kind, _namespace(resource), name), []).append(resource)
    return found


def references(spec: dict, containers) -> set:
    refs = set()
    for _, container in containers:
        for entry in container.get("env") or []:
            for path, kind in (("valueFrom.secretKeyRef.name", "Secret"), ("valueFrom.configMapKeyRef.name", "ConfigMap")):
                refs.add((kind, get(entry, path)))
        for entry in container.get("envFrom") or []:
            refs |= {("Secret", get(entry, "secretRef.name")), ("ConfigMap", get(entry, "configMapRef.name"))}
    for volume in spec.get("volumes") or []:
        refs |= {("Secret", get(volume, "secret.secretName")), ("ConfigMap", get(volume, "configMap.name"))}
        for source in get(volume, "projected.sources") or []:
            refs |= {("Secret", get(source, "secret.name")), ("ConfigMap", get(source, "configMap.name"))}
    return {(kind, name) for kind, name in refs if isinstance(name, str) and not is_unknown(name)}


def check(stack, config):
    producers = produced(stack)
    for resource in [r for r in stack.resources if r.type in WORKLOAD_TYPES]:  # any version, patches too
        workload = Workload(resource)
        yield from (f for f in workload.findings)
        namespace = _namespace(resource)
        missing = []
        for kind, name in sorted(references(workload.spec, workload.containers)):
            makers = producers.get((kind, namespace, name), []) + producers.get((kind, None, name), [])
            missing += [f"{kind} {name} (made by {maker.name})" for maker in makers
                        if maker.urn != resource.urn and not created_after(resource, maker)]
        if missing:
            yield violation(f"{namespace}/{resource.name} reads {', '.join(missing)} without depending on it: "
                            "its pods can start before it exists and the readiness wait runs out.", resource)


RULE = StackRule(
    name="kubernetes-workload-pod-require-source-dependency",
    description="A workload that reads a Secret or ConfigMap made by another resource of the program depends on that resource.",
    severity="medium",
    enforcement="mandatory",
    remediation="Add the resource that makes the Secret or ConfigMap to the workload's depends_on (or its "
                "component's: MlflowServerArgs.depends_on / FeatureServerArgs.depends_on).",
    frameworks=CIS_KUBERNETES("5.4.1") + SOC2("CC8.1"),
    tags=("deployability", "ordering"),
    check=check,
)
