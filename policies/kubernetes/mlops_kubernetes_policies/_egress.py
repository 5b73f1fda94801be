"""What a workload may reach: the NetworkPolicies that select its pods, and what its config names.

Kubernetes NetworkPolicies are additive: a pod selected by any policy with an Egress type may
reach what the union of those policies' egress rules allows, and nothing else. Selection is by
namespace and pod labels (matchLabels and matchExpressions).
"""
from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Optional

from mlops_policy import get, is_unknown

from ._kinds import group_kind
from ._workloads import ARGO, ARGO_WORKFLOW_SPEC, BUILTIN_POD_SPEC_PATHS, WORKLOAD_TYPES, Workload

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
GKE_CLUSTER = "gcp:container/cluster:Cluster"

# Workload identity, by the service-account annotation (or pod label) each cloud's webhook reads.
GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
AZURE_CLIENT_ANNOTATION = "azure.workload.identity/client-id"
AZURE_USE_LABEL = "azure.workload.identity/use"
# GKE metadata server (GKE "About Workload Identity Federation for GKE", restrictions).
GKE_METADATA = {"ADVANCED_DATAPATH": ("169.254.169.254", 80), "LEGACY_DATAPATH": ("169.254.169.252", 988)}
# Entra ID's token endpoint (login.microsoftonline.com) is public, in the AzureActiveDirectory service
# tag's ranges (e.g. 20.190.128.0/18); there is no private endpoint for it.
ENTRA_LOGIN_ADDRESS = "20.190.128.1"


@dataclass(frozen=True)
class Need:
    """A destination a workload must reach: ``address`` None = any address outside the cluster."""

    what: str
    port: int
    address: Optional[str] = None

    def describe(self) -> str:
        return f"{self.what} ({self.address or 'external'}:{self.port}/TCP)"


@dataclass
class Pods:
    resource: object
    namespace: Optional[str]
    labels: dict
    service_account: str
    workload: Workload
    texts: list = field(default_factory=list)  # plain config strings: args, env values, mounted ConfigMaps


def _namespace(resource) -> Optional[str]:
    value = get(resource.props, "metadata.namespace")
    return None if is_unknown(value) else (value or "default")


def _template_labels(resource) -> dict:
    parsed = group_kind(resource.type)
    path = BUILTIN_POD_SPEC_PATHS.get(parsed[:2]) if parsed else None
    if parsed and parsed[0] == ARGO and parsed[1] in ARGO_WORKFLOW_SPEC:
        # Argo labels every pod of a workflow with its spec's podMetadata.labels (and the controller's own).
        meta = f"{ARGO_WORKFLOW_SPEC[parsed[1]]}.podMetadata"
    elif path is None:  # other custom resources: their pods are labelled by their controller, not by a template here
        return {}
    else:
        meta = "metadata" if path == "spec" else path[: -len(".spec")] + ".metadata"
    labels = get(resource.props, f"{meta}.labels") or {}
    return {} if is_unknown(labels) else {k: v for k, v in labels.items() if isinstance(v, str)}


def _strings(value) -> list:
    if isinstance(value, str) and not is_unknown(value):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _secret_value(secrets: dict, namespace, ref) -> Optional[str]:
    """A Secret key's value when the program wrote it in plain text (a policy may see it; a plan never does),
    or the template an ExternalSecret renders it from (its placeholders are credentials, not addresses)."""
    secret = secrets.get((namespace, get(ref, "name")))
    if secret is None:
        return None
    if secret.type.endswith(":ExternalSecret"):
        value = get(secret.props, f"spec.target.template.data.{get(ref, 'key')}")
        return value if isinstance(value, str) and not is_unknown(value) else None
    value = get(secret.props, f"stringData.{get(ref, 'key')}")
    if value is None:
        encoded = get(secret.props, f"data.{get(ref, 'key')}")
        try:
            value = base64.b64decode(encoded).decode() if isinstance(encoded, str) and not is_unknown(encoded) else None
        except (ValueError, UnicodeDecodeError):
            value = None
    return value if isinstance(value, str) and not is_unknown(value) and value != "[secret]" else None


def workloads(stack) -> list:
    config_maps = {(_namespace(c), get(c.props, "metadata.name")): c for c in stack.of_type(CONFIG_MAP)}
    secrets = {(_namespace(c), get(c.props, "metadata.name")): c for c in stack.of_type(SECRET)}
    secrets.update({(_namespace(c), get(c.props, "spec.target.name") or get(c.props, "metadata.name")): c
                    for c in stack.resources if c.type.startswith("kubernetes:external-secrets.io/")
                    and c.type.endswith(":ExternalSecret")})
    found = []
    for resource in [r for r in stack.resources if r.type in WORKLOAD_TYPES]:  # any version, patches too
        workload = Workload(resource)
        namespace = _namespace(resource)
        pods = Pods(resource, namespace, _template_labels(resource), workload.service_account or "default", workload)
        env: dict = {}
        for _, container in workload.containers:
            pods.texts += _strings(container.get("command")) + _strings(container.get("args"))
            for entry in container.get("env") or []:
                value = entry.get("value")
                if value is None and get(entry, "valueFrom.secretKeyRef") is not None:
                    value = _secret_value(secrets, namespace, get(entry, "valueFrom.secretKeyRef"))
                if isinstance(value, str) and not is_unknown(value):
                    env[entry.get("name")] = value
        pods.texts += list(env.values())
        for volume in workload.spec.get("volumes") or []:
            config_map = config_maps.get((namespace, get(volume, "configMap.name")))
            if config_map is not None:
                # The server expands ${NAME} from its environment (Feast does), so the config names what env holds.
                pods.texts += [_PLACEHOLDER.sub(lambda m: env.get(m.group(1), m.group(0)), text)
                               for text in _strings(config_map.props.get("data"))]
        found.append(pods)
    return found


def identity_cloud(stack, pods: Pods) -> Optional[str]:
    """gcp | aws | azure when the pods' service account (or pod label) turns on that cloud's workload identity."""
    if pods.labels.get(AZURE_USE_LABEL) == "true":
        return "azure"
    for account in stack.of_type(SERVICE_ACCOUNT):
        if _namespace(account) == pods.namespace and get(account.props, "metadata.name") == pods.service_account:
            annotations = get(account.props, "metadata.annotations") or {}
            if is_unknown(annotations):
                return None
            if GSA_ANNOTATION in annotations:
                return "gcp"
            if IRSA_ANNOTATION in annotations:
                return "aws"
            if AZURE_CLIENT_ANNOTATION in annotations:
                return "azure"
    return None


def identity_needs(stack, cloud: str) -> list:
    """The destinations a cloud's workload-identity token flow needs (as alternatives: any one suffices)."""
    if cloud == "gcp":
        clusters = stack.of_type(GKE_CLUSTER)
        datapaths = {c.props.get("datapathProvider") or "LEGACY_DATAPATH" for c in clusters}
        known = [d for d in datapaths if d in GKE_METADATA]
        choices = [GKE_METADATA[d] for d in sorted(known)] if known else list(GKE_METADATA.values())
        return [Need("GKE metadata server (Workload Identity tokens)", port, address) for address, port in choices]
    if cloud == "aws":
        return [Need("STS (IRSA AssumeRoleWithWebIdentity)", 443)]
    return [Need("Entra ID token endpoint login.microsoftonline.com", 443, ENTRA_LOGIN_ADDRESS)]


_POSTGRES = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^/\s@]*@?[^/\s:@]+(?::(\d+))?")
_REDIS_CONNECTION = re.compile(r"connection_string:\s*[\"']?[^\s:,\"']+:(\d+)")
# An https:// URL names an outside service unless its host is an in-cluster Service name (*.svc[.cluster.local]),
# whose egress the namespace-to-namespace policies open, not 443 to the outside (the front door's TLS hop to Argo).
_OBJECT_STORE = re.compile(r"\b(?:s3|gs|wasbs|abfss|az)://|\bhttps://(?![\w.-]+\.svc(?:\.cluster\.local)?(?![\w.-]))"
                           r"|\btype:\s*(?:dynamodb|bigtable|datastore)\b")


def service_needs(pods: Pods) -> list:
    """Services the workload's plain config names: databases, Redis, object stores and cloud APIs."""
    needs = []
    for text in pods.texts:
        for match in _POSTGRES.finditer(text):
            needs.append(Need("PostgreSQL named in its config", int(match.group(1) or 5432)))
        if "redis" in text:
            needs += [Need("Redis named in its config", int(port)) for port in _REDIS_CONNECTION.findall(text)]
        if _OBJECT_STORE.search(text):
            needs.append(Need("object store / cloud API named in its config", 443))
    return list(dict.fromkeys(needs))


def _selects(selector, labels: dict) -> Optional[bool]:
    if is_unknown(selector):
        return None
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if (operator == "In" and labels.get(key) not in values) or (operator == "NotIn" and labels.get(key) in values) \
                or (operator == "Exists" and not present) or (operator == "DoesNotExist" and present):
            return False
    return True


def egress_rules(stack, pods: Pods) -> Optional[list]:
    """Egress rules of every policy selecting the pods; None when no policy restricts their egress."""
    rules, restricted = [], False
    for policy in stack.of_type(NETWORK_POLICY):
        if _namespace(policy) != pods.namespace or not _selects(get(policy.props, "spec.podSelector"), pods.labels):
            continue
        spec = policy.props.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if "Egress" in types:
            restricted = True
            rules += [r for r in spec.get("egress") or [] if isinstance(r, dict)]
    return rules if restricted else None


def _port_ok(rule: dict, port: int) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    for entry in ports:
        number, end = entry.get("port"), entry.get("endPort")
        if (entry.get("protocol") or "TCP") != "TCP":
            continue
        if number is None or number == port or (isinstance(number, int) and isinstance(end, int) and number <= port <= end):
            return True
    return False


def _peer_ok(peer: dict, address: Optional[str]) -> bool:
    block = peer.get("ipBlock")
    if not isinstance(block, dict) or not isinstance(block.get("cidr"), str) or is_unknown(block.get("cidr")):
        return False
    if address is None:
        return True
    ip = ipaddress.ip_address(address)
    try:
        inside = ip in ipaddress.ip_network(block["cidr"], strict=False)
        excepted = any(ip in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])
    except ValueError:
        return False
    return inside and not excepted


def allows(rules: Optional[list], need: Need) -> bool:
    if rules is None:
        return True
    return any(_port_ok(rule, need.port) and (not rule.get("to") or any(_peer_ok(p, need.address) for p in rule["to"]))
               for rule in rules)


def selecting_policies(stack, pods: Pods) -> Optional[list]:
    """The NetworkPolicies of the pods' namespace whose podSelector selects them; None when one selector is unknown.

    Pods of custom resources (Argo, Kubeflow, Ray, KServe) are labelled by their controllers and templates the
    view does not see, so for them every policy of their namespace counts.
    """
    found = []
    labels_known = group_kind(pods.resource.type)[:2] in BUILTIN_POD_SPEC_PATHS
    for policy in stack.of_type(NETWORK_POLICY):
        if _namespace(policy) != pods.namespace:
            continue
        selected = _selects(get(policy.props, "spec.podSelector"), pods.labels) if labels_known else True
        if selected is None:
            return None
        if selected:
            found.append(policy)
    return found
