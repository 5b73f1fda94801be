"""The internal front door: one private TLS endpoint per stack, one hostname per UI (issue 16).

Design (docs/access.md, "Front door"): an nginx reverse proxy in the platform namespace behind the
cloud's *internal* L4 load balancer (a Service of type LoadBalancer with the cloud's internal annotation),
terminating TLS with a certificate from the platform's private CA (certificates.py), routing by SNI and
Host to each UI's ClusterIP Service. Why not the clouds' L7 ingress controllers: each needs its own
install and network prerequisites (AWS Load Balancer Controller with its IAM role, a GKE proxy-only subnet,
AKS app routing whose nginx is the retired ingress-nginx), and none takes a cluster-issued certificate
on all three clouds; one proxy with one config is the same everywhere and runs in ``make smoke``.

- Built only with single sign-on on: every UI it routes to logs people in at the issuer (MLflow's
  oidc-auth, Grafana's generic_oauth, Argo's SSO mode). Nothing is public by default.
- Unknown hostnames are refused at the TLS handshake (``ssl_reject_handshake``); TLS 1.2+ only; HSTS.
- Allow-lists twice: the load balancer's ``loadBalancerSourceRanges`` and nginx's ``allow``/``deny`` on the
  client address (``externalTrafficPolicy: Local`` keeps it; not visible offline: each cloud's L4 LB
  passes the client address through, per its documentation).
- The opt-in public endpoint (``mlops:access.public``) is a second, internet-facing Service on its own
  port, whose server blocks allow only ``allowedCidrs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.access import certificates
from components.k8s import PLATFORM_NAMESPACE, PRIORITY_SERVING, ResourceBudget
from components.k8s._common import (WORKLOAD_UID, InvalidInput, container_security_context, disruption_budget, from_cidrs,
                                    metadata, pod_security_context, replicated_deployment_spec, resources,
                                    service_account, tcp_ports, writable_dir)

NAME = "front-door"
IMAGE = "nginxinc/nginx-unprivileged:1.28.0-alpine"  # tag pinned; existence of the tag is not visible offline
# Not the image's nginx user (101): a UID above 10000 cannot collide with a host account (Checkov CKV_K8S_40).
# nginx-unprivileged reads only world-readable files (binary, modules) and the mounted config and TLS
# Secret (mode 0644); every path it writes is under /tmp (an emptyDir), so any non-root UID runs it.
UID = WORKLOAD_UID
INTERNAL_PORT, PUBLIC_PORT, HEALTH_PORT = 8443, 8444, 8081
TLS_SECRET = "front-door-tls"
CONFIG_DIR, TLS_DIR = "/etc/front-door", "/etc/front-door/tls"


@dataclass(frozen=True)
class Route:
    """One UI behind the front door: its hostname and the in-cluster Service it is served by."""

    ui: str
    hostname: str
    service: str  # <name>.<namespace>.svc.cluster.local
    port: int  # the Service's port
    namespace: str
    pod_labels: Mapping[str, str]  # the UI's pods (network policy)
    pod_port: int  # the container port behind the Service port
    upstream_tls: bool = False  # the UI serves HTTPS itself (Argo server: a self-signed certificate)


@dataclass
class FrontDoorArgs:
    platform: str
    environment: str
    routes: Sequence[Route]
    private_cidrs: Sequence[pulumi.Input[str]]  # who may use the internal endpoint (the private network)
    internal_annotations: Mapping[str, str]  # the cloud's "internal load balancer" annotations
    public_cidrs: Sequence[str] = ()  # empty: no public endpoint
    public_annotations: Mapping[str, str] = field(default_factory=dict)
    image: str = IMAGE


def _server(route: Route, port: int, allowed: Sequence[str]) -> str:
    allow = "".join(f"        allow {cidr};\n" for cidr in allowed)
    return f"""
    server {{
        listen {port} ssl;
        server_name {route.hostname};
        ssl_certificate {TLS_DIR}/tls.crt;
        ssl_certificate_key {TLS_DIR}/tls.key;
{allow}        deny all;
        add_header Strict-Transport-Security "max-age=31536000" always;
        location / {{
            proxy_pass {"https" if route.upstream_tls else "http"}://{route.service}:{route.port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 300s;
            proxy_buffering off;
        }}
    }}
"""


def nginx_conf(routes: Sequence[Route], private_cidrs: Sequence[str], public_cidrs: Sequence[str]) -> str:
    """The proxy's whole nginx.conf (read-only root file system: every writable path is under /tmp)."""
    if not routes:
        raise InvalidInput("FrontDoorArgs.routes: at least one UI is needed")
    if len({r.hostname for r in routes}) != len(routes):
        raise InvalidInput(f"FrontDoorArgs.routes: hostnames must be unique ({[r.hostname for r in routes]})")
    for cidr in [*private_cidrs, *public_cidrs]:
        if cidr.endswith("/0"):
            raise InvalidInput(f"front door allow-list: {cidr} would let the whole internet in")
    listeners = [(INTERNAL_PORT, private_cidrs)] + ([(PUBLIC_PORT, public_cidrs)] if public_cidrs else [])
    servers = "".join(_server(route, port, allowed) for port, allowed in listeners for route in routes)
    refuse = "".join(f"""
    server {{
        listen {port} ssl default_server;
        ssl_reject_handshake on;
    }}
""" for port, _ in listeners)
    return f"""worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log /dev/stdout;
    server_tokens off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    client_max_body_size 0;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:front_door:10m;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
{refuse}{servers}
    server {{
        listen {HEALTH_PORT};
        location = /healthz {{
            access_log off;
            return 200 "ok\\n";
        }}
    }}
}}
"""


GRAFANA_SERVICE = "kube-prometheus-stack-grafana"  # the grafana subchart's fullname under release kube-prometheus-stack
GRAFANA_PORT, GRAFANA_POD_PORT = 80, 3000
ARGO_SERVER_SERVICE = "argo-workflows-server"  # the argo-workflows chart's server under release argo-workflows


def ui_routes(hostnames: Mapping[str, str], pipelines_namespace: Optional[str] = None) -> list[Route]:
    """MLflow and Grafana always; the pipeline UI where the stack installs the pipelines (its namespace)."""
    from components.k8s import MLFLOW_NAME, MLFLOW_PORT, MONITORING_NAMESPACE
    from components.pipelines.argo import ARGO_SERVER_PORT

    routes = [Route("mlflow", hostnames["mlflow"], f"{MLFLOW_NAME}.{PLATFORM_NAMESPACE}.svc.cluster.local",
                    MLFLOW_PORT, PLATFORM_NAMESPACE, {"app.kubernetes.io/name": MLFLOW_NAME}, MLFLOW_PORT),
              Route("grafana", hostnames["grafana"], f"{GRAFANA_SERVICE}.{MONITORING_NAMESPACE}.svc.cluster.local",
                    GRAFANA_PORT, MONITORING_NAMESPACE, {"app.kubernetes.io/name": "grafana"}, GRAFANA_POD_PORT)]
    if pipelines_namespace:
        # Argo's server speaks TLS with its own self-signed certificate (secure: true); the in-cluster hop
        # is encrypted but not verified.
        routes.append(Route("pipelines", hostnames["pipelines"], f"{ARGO_SERVER_SERVICE}.{pipelines_namespace}.svc.cluster.local",
                            ARGO_SERVER_PORT, pipelines_namespace, {"app.kubernetes.io/name": ARGO_SERVER_SERVICE},
                            ARGO_SERVER_PORT, upstream_tls=True))
    return routes


def load_balancer_service(name: str, namespace: str, labels: Mapping[str, str], annotations: Mapping[str, str],
                          port: int, source_ranges: Sequence[pulumi.Input[str]]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace, "labels": dict(labels), "annotations": dict(annotations)},
            "spec": {"type": "LoadBalancer", "selector": {"app.kubernetes.io/name": NAME},
                     "externalTrafficPolicy": "Local", "loadBalancerSourceRanges": list(source_ranges),
                     "ports": [{"name": "https", "port": 443, "targetPort": port, "protocol": "TCP"}]}}


def check_args(args: FrontDoorArgs) -> None:
    if not args.internal_annotations:
        raise InvalidInput("FrontDoorArgs.internal_annotations: the cloud's internal load balancer annotation is required")
    if not args.image or ":" not in args.image.rsplit("/", 1)[-1] and "@sha256:" not in args.image:
        raise InvalidInput(f"FrontDoorArgs.image {args.image!r} must be pinned by tag or digest")


class FrontDoor(pulumi.ComponentResource):
    """cert-manager and the private CA, the front door's certificate, the proxy and its load balancers."""

    internal_service: k8s.core.v1.Service
    address: pulumi.Output[str]  # the internal load balancer's IP or DNS name, once the cloud has made it

    def __init__(self, name: str, args: FrontDoorArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:FrontDoor", name, None, opts)
        check_args(args)
        namespace = PLATFORM_NAMESPACE
        labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/component": "front-door",
                  "app.kubernetes.io/part-of": "mlops-platform"}
        child = pulumi.ResourceOptions(parent=self)
        release = k8s.helm.v3.Release(
            f"{name}-cert-manager", name="cert-manager", chart=certificates.CHART, version=certificates.CHART_VERSION,
            repository_opts={"repo": certificates.CHART_REPOSITORY}, namespace=certificates.NAMESPACE,
            create_namespace=True, values=certificates.chart_values(args.environment), atomic=True,
            cleanup_on_fail=True, timeout=600, max_history=10, opts=child)
        after_crds = pulumi.ResourceOptions(parent=self, depends_on=[release])
        issued = [self._custom(f"{name}-{m['kind'].lower()}-{m['metadata']['name']}", m, after_crds)
                  for m in [*certificates.ca_manifests(args.platform), certificates.server_certificate(
                      NAME, namespace, TLS_SECRET, [route.hostname for route in args.routes])]]

        config = pulumi.Output.all(*args.private_cidrs).apply(
            lambda cidrs: nginx_conf(args.routes, [str(c) for c in cidrs], list(args.public_cidrs)))
        config_map = k8s.core.v1.ConfigMap(f"{name}-config", metadata=metadata(NAME, namespace, labels),
                                           data={"nginx.conf": config}, opts=child)
        service_account(f"{name}-sa", NAME, namespace, labels, None, child)
        ports = [{"name": "https", "containerPort": INTERNAL_PORT}, {"name": "health", "containerPort": HEALTH_PORT}]
        if args.public_cidrs:
            ports.insert(1, {"name": "https-public", "containerPort": PUBLIC_PORT})
        probe = {"httpGet": {"path": "/healthz", "port": "health"}, "periodSeconds": 10, "failureThreshold": 3}
        pod = {
            "securityContext": pod_security_context(UID),
            "containers": [{
                "name": "nginx", "image": args.image,
                "command": ["nginx", "-c", f"{CONFIG_DIR}/nginx.conf", "-g", "daemon off;"],
                "ports": ports, "readinessProbe": probe, "livenessProbe": probe,
                "resources": resources(ResourceBudget("50m", "64Mi", "500m", "256Mi")),
                "securityContext": container_security_context(uid=UID),
                "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
                                 {"name": "tls", "mountPath": TLS_DIR, "readOnly": True},
                                 {"name": "tmp", "mountPath": "/tmp"}],
            }],
            "volumes": [{"name": "config", "configMap": {"name": NAME, "items": [{"key": "nginx.conf", "path": "nginx.conf"}]}},
                        {"name": "tls", "secret": {"secretName": TLS_SECRET}}, writable_dir("tmp", "64Mi")],
        }
        replicas = 1 if args.environment == "dev" else 2
        k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=metadata(NAME, namespace, labels),
            spec=replicated_deployment_spec(NAME, replicas, labels, pod, PRIORITY_SERVING,
                                            # roll the pods when the config changes
                                            pod_annotations={"mlops.dev/config-sha256": config.apply(_digest)}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config_map, *issued]))
        disruption_budget(f"{name}-pdb", NAME, namespace, labels, child)
        self.internal_service = k8s.core.v1.Service(f"{name}-internal", **load_balancer_service(
            f"{NAME}-internal", namespace, labels, args.internal_annotations, INTERNAL_PORT, args.private_cidrs), opts=child)
        self.public_service = None
        if args.public_cidrs:
            self.public_service = k8s.core.v1.Service(f"{name}-public", **load_balancer_service(
                f"{NAME}-public", namespace, labels, args.public_annotations, PUBLIC_PORT, args.public_cidrs), opts=child)
        self._network_policies(name, args, labels, child)
        self.hostnames = [route.hostname for route in args.routes]
        self.address = self.internal_service.status.apply(_lb_address)
        self.register_outputs({"internalAddress": self.address, "hostnames": [r.hostname for r in args.routes]})

    @staticmethod
    def _custom(resource_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
        return k8s.apiextensions.CustomResource(resource_name, api_version=manifest["apiVersion"], kind=manifest["kind"],
                                                metadata=manifest["metadata"], spec=manifest["spec"], opts=opts)

    @staticmethod
    def _network_policies(name: str, args: FrontDoorArgs, labels: Mapping[str, str], child: pulumi.ResourceOptions) -> None:
        """Clients reach the proxy on its listener ports only; the proxy reaches each UI's pods only; each
        UI's namespace admits the proxy (its own policies only admit their namespace's callers)."""
        ingress = [{"from": from_cidrs(args.private_cidrs), "ports": tcp_ports([INTERNAL_PORT])},
                   # kubelet health probes come from the node addresses (in the private ranges)
                   {"from": from_cidrs(args.private_cidrs), "ports": tcp_ports([HEALTH_PORT])}]
        if args.public_cidrs:
            ingress.append({"from": from_cidrs(args.public_cidrs), "ports": tcp_ports([PUBLIC_PORT])})
        egress = [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": route.namespace}},
                           "podSelector": {"matchLabels": dict(route.pod_labels)}}],
                   "ports": tcp_ports([route.pod_port])} for route in args.routes]
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", metadata=metadata(NAME, PLATFORM_NAMESPACE, labels), spec={
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress, "egress": egress}, opts=child)
        proxy = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": PLATFORM_NAMESPACE}},
                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}]
        for route in args.routes:
            if route.namespace == PLATFORM_NAMESPACE:
                continue  # the platform namespace's UIs already admit its pods
            k8s.networking.v1.NetworkPolicy(
                f"{name}-to-{route.ui}", metadata=metadata(f"{NAME}-to-{route.ui}", route.namespace, labels), spec={
                    "podSelector": {"matchLabels": dict(route.pod_labels)}, "policyTypes": ["Ingress"],
                    "ingress": [{"from": proxy, "ports": tcp_ports([route.pod_port])}]}, opts=child)


def _digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _field(value: Any, *names: str) -> Any:
    for name in names:
        found = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if found is not None:
            return found
    return None


def _lb_address(status: Any) -> str:
    """The load balancer's address from the Service's status (a DNS name on AWS, an IP on Azure and GCP).
    Pulumi waits for the cloud to publish it before the Service counts as created."""
    ingress = _field(_field(status, "load_balancer", "loadBalancer"), "ingress") or []
    if not ingress:
        raise InvalidInput("the front door's load balancer has no address in its status")
    return _field(ingress[0], "hostname") or _field(ingress[0], "ip")
