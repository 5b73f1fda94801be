"""Building blocks every in-cluster workload shares: hardening, labels, probes, input checks.

Manifests are written as camelCase dicts (exactly the Kubernetes schema), so what a reviewer sees in
the plan, what the policy pack checks and what `mlops_tools.validate.manifests` validates are the same text.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Iterable, Mapping, Optional, Sequence

import pulumi

from components.k8s import ResourceBudget, SecretKeyRef

# A non-root UID/GID no base image assigns to a real user; files the process writes go to emptyDirs.
WORKLOAD_UID = 10001

# A version tag, a digest, or both (``repo:v1.2@sha256:...``: the digest is what runs, the tag is for people).
_PINNED_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*((:[0-9][\w.-]*|:v[0-9][\w.-]*)(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")
# Environment variable names that carry credentials: they must come from a Secret, never a literal.
_CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|ACCESS_KEY|PRIVATE_KEY|API_KEY|CREDENTIAL|CONNECTION_STRING)", re.I)
_CREDENTIAL_URI = re.compile(r"://[^/\s:@]+:[^/\s@]+@")  # scheme://user:password@host
# Alertmanager / Feast config keys whose value is a credential (their *_file variants are fine).
CREDENTIAL_KEYS = frozenset({
    "password", "auth_password", "api_key", "api_url", "routing_key", "service_key", "bot_token",
    "secret_key", "access_key", "token", "client_secret", "connection_string", "webhook_url",
})

KUBE_DNS = {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}


class InvalidInput(ValueError):
    """An argument a component cannot build a secure workload from; the message names it."""


def require_pinned_image(image: str, what: str) -> str:
    """Images are pinned to a version tag or digest: `latest` or a bare name drifts between deploys."""
    if not isinstance(image, str) or not _PINNED_IMAGE.match(image) or image.endswith(":latest"):
        raise InvalidInput(f"{what} image {image!r} must be pinned to a version tag or sha256 digest "
                           "(e.g. ghcr.io/mlflow/mlflow:v3.10.1-full)")
    return image


def require_environment(environment: str) -> str:
    if environment not in ("dev", "staging", "prod"):
        raise InvalidInput(f"environment {environment!r} must be one of dev, staging, prod")
    return environment


def replicas_for(environment: str, requested: Optional[int], what: str) -> int:
    """One replica in dev, two elsewhere; production never runs a single replica."""
    count = requested if requested is not None else (1 if environment == "dev" else 2)
    if count < 1:
        raise InvalidInput(f"{what} replicas must be >= 1 (got {count})")
    if environment == "prod" and count < 2:
        raise InvalidInput(f"{what} replicas must be >= 2 in prod (got {count}): one node drain would take it down")
    return count


def check_no_literal_credentials(values: Mapping[str, Any], where: str) -> None:
    """Refuse credential-looking literals: secrets reach pods only through secretKeyRef."""
    for name, value in values.items():
        if _CREDENTIAL_NAME.search(name):
            raise InvalidInput(f"{where}: {name} looks like a credential; pass it as a SecretKeyRef, not a value")
        if isinstance(value, str) and _CREDENTIAL_URI.search(value):
            raise InvalidInput(f"{where}: {name} holds a URI with an embedded password; pass it as a SecretKeyRef")


def find_credential_keys(config: Any, path: str = "") -> list[str]:
    """Paths of keys in a nested config whose value would be a credential in clear text."""
    found: list[str] = []
    if isinstance(config, Mapping):
        for key, value in config.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in CREDENTIAL_KEYS and isinstance(value, str) and not value.startswith("${"):
                found.append(here)
            elif isinstance(value, str) and _CREDENTIAL_URI.search(value):
                found.append(here)
            else:
                found.extend(find_credential_keys(value, here))
    elif isinstance(config, (list, tuple)):
        for index, item in enumerate(config):
            found.extend(find_credential_keys(item, f"{path}[{index}]"))
    return found


def app_labels(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": "mlops-platform", "app.kubernetes.io/managed-by": "pulumi"}


def selector_labels(name: str) -> dict[str, str]:
    """The immutable subset used in selectors (changing a Deployment selector forces a replace)."""
    return {"app.kubernetes.io/name": name}


def metadata(name: str, namespace: Optional[str], labels: Mapping[str, str],
             annotations: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def pod_security_context(uid: int = WORKLOAD_UID) -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security_context(read_only_root: bool = True, uid: Optional[int] = WORKLOAD_UID) -> dict[str, Any]:
    """Restricted Pod Security profile, repeated on the container so it holds whatever the pod says."""
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"},
    }
    if uid is not None:
        context.update(runAsNonRoot=uid != 0, runAsUser=uid)
    return context


def resources(budget: ResourceBudget) -> dict[str, Any]:
    return {"requests": {"cpu": budget.cpu_request, "memory": budget.memory_request},
            "limits": {"cpu": budget.cpu_limit, "memory": budget.memory_limit}}


def http_probe(path: str, port: str, period: int, failures: int, timeout: int = 5) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": timeout,
            "failureThreshold": failures}


def secret_env(name: str, ref: SecretKeyRef) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}}


def literal_env(values: Mapping[str, pulumi.Input[str]]) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in sorted(values.items())]


def writable_dir(name: str, size: str = "256Mi", memory: bool = False) -> dict[str, Any]:
    """An emptyDir for the paths a process writes to under a read-only root filesystem."""
    source: dict[str, Any] = {"sizeLimit": size}
    if memory:
        source["medium"] = "Memory"
    return {"name": name, "emptyDir": source}


def spread_across_zones(labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Replicas prefer different zones and nodes, so one zone or node loss leaves one serving."""
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": dict(labels)}}
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]


def from_namespaces(names: Iterable[str]) -> list[dict[str, Any]]:
    return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}} for name in sorted(set(names))]


def from_cidrs(cidrs: Iterable[pulumi.Input[str]]) -> list[dict[str, Any]]:
    """ipBlock peers; known ranges sorted and de-duplicated (stable plans), Outputs kept in order after them."""
    known = sorted({cidr for cidr in cidrs if isinstance(cidr, str)})
    pending = [cidr for cidr in cidrs if not isinstance(cidr, str)]
    return [{"ipBlock": {"cidr": cidr}} for cidr in [*known, *pending]]


def tcp_ports(ports: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, used for pod ranges


def require_cidrs(cidrs: Sequence[pulumi.Input[str]], what: str) -> list[pulumi.Input[str]]:
    """Private CIDR ranges (RFC 1918/6598/4193); values still unknown at preview pass through unchecked."""
    result: list[pulumi.Input[str]] = []
    for cidr in cidrs:
        if not isinstance(cidr, str):
            result.append(cidr)
            continue
        try:
            network = ipaddress.ip_network(cidr)
        except ValueError:
            raise InvalidInput(f"{what}: {cidr!r} is not a CIDR range") from None
        shared = network.version == 4 and network.subnet_of(_SHARED_ADDRESS_SPACE)
        if not (network.is_private or shared) or network.prefixlen == 0:
            raise InvalidInput(f"{what}: {cidr!r} is not a private range")
        result.append(str(network))
    if not result:
        raise InvalidInput(f"{what} must name at least one private CIDR range (the cluster's VPC/VNet)")
    return result


def health_probes(port: str, path: str = "/health", startup_seconds: int = 180) -> dict[str, Any]:
    """Startup (a budget for slow first starts), readiness and liveness on one health endpoint."""
    return {"startupProbe": http_probe(path, port, period=10, failures=max(1, startup_seconds // 10)),
            "readinessProbe": http_probe(path, port, period=10, failures=3),
            "livenessProbe": http_probe(path, port, period=20, failures=3)}


def service_account(resource_name: str, name: str, namespace: str, labels: Mapping[str, str],
                    annotations: Optional[Mapping[str, Any]], opts: pulumi.ResourceOptions) -> Any:
    """A workload's own ServiceAccount: workload identity annotations, no API token mounted by default."""
    import pulumi_kubernetes as k8s

    return k8s.core.v1.ServiceAccount(resource_name, metadata=metadata(name, namespace, labels, annotations),
                                      automount_service_account_token=False, opts=opts)


def replicated_deployment_spec(name: str, replicas: int, pod_labels: Mapping[str, str], pod_spec: Mapping[str, Any],
                               priority_class: str, pod_annotations: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
    """A Deployment that keeps serving while it rolls, spread over zones, with the restricted pod context."""
    template_metadata: dict[str, Any] = {"labels": dict(pod_labels)}
    if pod_annotations:
        template_metadata["annotations"] = dict(pod_annotations)
    return {
        "replicas": replicas,
        "selector": {"matchLabels": selector_labels(name)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {"metadata": template_metadata, "spec": {
            "serviceAccountName": name,
            "automountServiceAccountToken": False,  # the servers never call the Kubernetes API
            "enableServiceLinks": False,
            "priorityClassName": priority_class,
            "securityContext": pod_security_context(),
            "topologySpreadConstraints": spread_across_zones(selector_labels(name)),
            **pod_spec,
        }},
    }


def disruption_budget(resource_name: str, name: str, namespace: str, labels: Mapping[str, str],
                      opts: pulumi.ResourceOptions) -> Any:
    """At most one replica down for voluntary disruptions (drains, spot-free consolidation)."""
    import pulumi_kubernetes as k8s

    return k8s.policy.v1.PodDisruptionBudget(resource_name, metadata=metadata(name, namespace, labels), spec={
        "maxUnavailable": 1, "selector": {"matchLabels": selector_labels(name)}}, opts=opts)


def create_manifest(name: str, manifest: dict, opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The Pulumi resource of a rendered manifest (camelCase dict): its typed class for the core kinds, else a
    CustomResource (validated against its CRD offline)."""
    import pulumi_kubernetes as k8s

    kind, meta = manifest["kind"], manifest["metadata"]
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind", "metadata")}
    if kind == "NetworkPolicy":
        return k8s.networking.v1.NetworkPolicy(name, metadata=meta, spec=body["spec"], opts=opts)
    if kind == "ServiceAccount":
        return k8s.core.v1.ServiceAccount(name, metadata=meta, **{"automount_service_account_token":
                                                                 body.get("automountServiceAccountToken")}, opts=opts)
    if kind == "Service":
        return k8s.core.v1.Service(name, metadata=meta, spec=body["spec"], opts=opts)
    if kind == "Deployment":
        return k8s.apps.v1.Deployment(name, metadata=meta, spec=body["spec"], opts=opts)
    if kind == "Role":
        return k8s.rbac.v1.Role(name, metadata=meta, rules=body["rules"], opts=opts)
    if kind == "RoleBinding":
        return k8s.rbac.v1.RoleBinding(name, metadata=meta, role_ref=body["roleRef"], subjects=body["subjects"],
                                       opts=opts)
    return k8s.apiextensions.CustomResource(name, api_version=manifest["apiVersion"], kind=kind, metadata=meta,
                                            spec=body["spec"], opts=opts)
