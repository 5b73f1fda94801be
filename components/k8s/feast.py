"""FeatureServer: the Feast online feature server as a hardened Deployment.

The feature store config (``feature_store.yaml``) is rendered from the cloud's inputs into a
ConfigMap: registry on the object store, the managed online store, and credentials only as
``${VAR}`` placeholders that Feast expands from environment variables filled by secretKeyRef.
The server reads the registry and online store with its workload identity; it holds no keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.k8s import (
    FEAST_METRICS_PORT,
    FEAST_NAME,
    FEAST_PORT,
    FEAST_SERVICE_ACCOUNT,
    FEATURE_SERVER_URL,
    MONITORING_NAMESPACE,
    PLATFORM_NAMESPACE,
    PRIORITY_SERVING,
    FeatureServerArgs,
    ResourceBudget,
    ScrapeTarget,
)
from components.k8s._common import (
    InvalidInput,
    app_labels,
    check_no_literal_credentials,
    container_security_context,
    disruption_budget,
    find_credential_keys,
    from_namespaces,
    health_probes,
    literal_env,
    metadata,
    replicas_for,
    replicated_deployment_spec,
    require_environment,
    require_pinned_image,
    resources,
    secret_env,
    selector_labels,
    service_account,
    tcp_ports,
    writable_dir,
)

CONFIG_DIR = "/feature_repo"
DEFAULT_RESOURCES = ResourceBudget(cpu_request="250m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi")
PROVIDERS = ("aws", "gcp", "azure", "local")
ENTITY_KEY_SERIALIZATION_VERSION = 3  # Feast's current scheme (>= 0.38); the feature repo must use the same
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def render_feature_store_yaml(config: dict[str, Any]) -> str:
    """YAML with sorted keys, so the same inputs give the same ConfigMap (no spurious rollouts)."""
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    return set()


def _check(args: FeatureServerArgs) -> None:
    if args.provider not in PROVIDERS:
        raise InvalidInput(f"FeatureServerArgs.provider {args.provider!r} must be one of {', '.join(PROVIDERS)}")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", args.project or ""):
        raise InvalidInput(f"FeatureServerArgs.project {args.project!r} must be letters, digits and underscores")
    if not isinstance(args.online_store, Mapping) or "type" not in args.online_store:
        raise InvalidInput("FeatureServerArgs.online_store must be a mapping with a 'type' (e.g. dynamodb, redis, bigtable)")
    for field, store in (("online_store", args.online_store), ("offline_store", args.offline_store or {})):
        leaked = find_credential_keys(store)
        if leaked:
            raise InvalidInput(f"FeatureServerArgs.{field}: {', '.join(leaked)} would put a credential in the ConfigMap; "
                               "write '${NAME}' and pass NAME in secret_env")
    check_no_literal_credentials(args.extra_env, "FeatureServerArgs.extra_env")
    for name in args.secret_env:
        if not _ENV_NAME.match(name):
            raise InvalidInput(f"FeatureServerArgs.secret_env: {name!r} is not an environment variable name")
    referenced = _placeholders(dict(args.online_store)) | _placeholders(dict(args.offline_store or {}))
    missing = sorted(referenced - set(args.secret_env) - set(args.extra_env))
    if missing:
        raise InvalidInput(f"FeatureServerArgs: the store config refers to ${{{missing[0]}}} but neither secret_env nor "
                           "extra_env defines it")
    bad_ports = [port for port in args.egress_ports if not (isinstance(port, int) and 0 < port < 65536)]
    if bad_ports or not args.egress_ports:
        raise InvalidInput(f"FeatureServerArgs.egress_ports must be TCP port numbers (got {list(args.egress_ports)})")
    if args.registry_cache_ttl_seconds < 0:
        raise InvalidInput("FeatureServerArgs.registry_cache_ttl_seconds must be >= 0")


class FeatureServer(pulumi.ComponentResource):
    """Feast feature server: ConfigMap, Deployment, Service, PDB, NetworkPolicy."""

    url: str
    namespace: str
    service_name: str
    scrape_target: ScrapeTarget
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    config_map: k8s.core.v1.ConfigMap

    def __init__(self, name: str, args: FeatureServerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:FeatureServer", name, None, opts)
        environment = require_environment(args.environment)
        image = require_pinned_image(args.image, "Feast feature server")
        replicas = replicas_for(environment, args.replicas, "Feast feature server")
        _check(args)
        namespace = PLATFORM_NAMESPACE
        labels = app_labels(FEAST_NAME, "feature-server")
        child = pulumi.ResourceOptions(parent=self)

        registry: dict[str, Any] = {"registry_type": "file", "path": args.registry_path,
                                    "cache_ttl_seconds": args.registry_cache_ttl_seconds}
        if args.registry_store_type:
            registry["registry_store_type"] = args.registry_store_type
        store_config: dict[str, Any] = {
            "project": args.project,
            "provider": args.provider,
            "registry": registry,
            "online_store": dict(args.online_store),
            "entity_key_serialization_version": ENTITY_KEY_SERIALIZATION_VERSION,
        }
        if args.offline_store:
            store_config["offline_store"] = dict(args.offline_store)
        feature_store_yaml = pulumi.Output.from_input(store_config).apply(render_feature_store_yaml)

        self.service_account = service_account(f"{name}-sa", FEAST_SERVICE_ACCOUNT, namespace, labels,
                                               args.service_account_annotations, child)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config", metadata=metadata(f"{FEAST_NAME}-config", namespace, labels),
            data={"feature_store.yaml": feature_store_yaml}, opts=child)

        command = ["feast", "--chdir", CONFIG_DIR, "serve", "--host", "0.0.0.0", "--port", str(FEAST_PORT),
                   "--metrics", "--registry_ttl_sec", str(args.registry_cache_ttl_seconds)]
        env = [
            {"name": "FEAST_USAGE", "value": "False"},  # no telemetry calls out of the cluster
            {"name": "HOME", "value": "/tmp"},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
            *literal_env(args.extra_env),
            *(secret_env(env_name, ref) for env_name, ref in sorted(args.secret_env.items())),
        ]
        container = {
            "name": FEAST_NAME, "image": image, "command": command, "env": env,
            "ports": [{"name": "http", "containerPort": FEAST_PORT, "protocol": "TCP"},
                      {"name": "metrics", "containerPort": FEAST_METRICS_PORT, "protocol": "TCP"}],
            "resources": resources(args.resources or DEFAULT_RESOURCES),
            "securityContext": container_security_context(),
            # The first registry load from the object store can take a while on a cold start.
            **health_probes("http", startup_seconds=180),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                             {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
        }
        spec = replicated_deployment_spec(FEAST_NAME, replicas, {**labels, **args.workload_identity_pod_labels}, {
            "containers": [container],
            "volumes": [writable_dir("tmp", "512Mi"), {"name": "config", "configMap": {"name": f"{FEAST_NAME}-config"}}],
        }, PRIORITY_SERVING,
            # A config change rolls the pods (a mounted ConfigMap alone would not restart the server).
            pod_annotations={"mlops.dev/config-hash": feature_store_yaml.apply(_short_hash)})
        self.deployment = k8s.apps.v1.Deployment(name, metadata=metadata(FEAST_NAME, namespace, labels), spec=spec,
                                                 opts=pulumi.ResourceOptions(parent=self, depends_on=[self.config_map]))

        self.service = k8s.core.v1.Service(f"{name}-service", metadata=metadata(FEAST_NAME, namespace, labels), spec={
            "type": "ClusterIP", "selector": selector_labels(FEAST_NAME),
            "ports": [{"name": "http", "port": FEAST_PORT, "targetPort": "http", "protocol": "TCP"},
                      {"name": "metrics", "port": FEAST_METRICS_PORT, "targetPort": "metrics", "protocol": "TCP"}],
        }, opts=child)
        disruption_budget(f"{name}-pdb", FEAST_NAME, namespace, labels, child)
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", metadata=metadata(FEAST_NAME, namespace, labels), spec={
            "podSelector": {"matchLabels": selector_labels(FEAST_NAME)}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {"from": from_namespaces(args.client_namespaces), "ports": tcp_ports(["http"])},
                {"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports(["metrics"])},
            ],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports(sorted(set(args.egress_ports)))}],
        }, opts=child)

        self.url = FEATURE_SERVER_URL
        self.namespace = namespace
        self.service_name = FEAST_NAME
        self.scrape_target = ScrapeTarget(name=FEAST_NAME, namespace=namespace,
                                          service_labels=selector_labels(FEAST_NAME), port="metrics")
        self.register_outputs({"url": self.url, "serviceAccount": FEAST_SERVICE_ACCOUNT})


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]
