"""MlflowServer: the MLflow tracking server (and model registry) as a hardened Deployment.

Decisions:
- Authentication is MLflow's own ``basic-auth`` app: no extra proxy to run, and permissions are per
  experiment/model. The admin password is generated here and kept in a Secret (and in Pulumi state
  as a secret), never in a manifest. Users get their own accounts from the admin.
- The auth config file (it holds the admin password and the database URI) is written at pod start
  by an init container into a memory-backed volume, so neither appears in the Deployment.
- Artifacts are proxied (``--serve-artifacts``): clients never hold object-store credentials; only
  the server's service account (workload identity) can reach the bucket.
- Reached in cluster through Service ``mlflow``; an internal load balancer is optional and must be
  internal. Health endpoint ``/health`` drives the probes; ``/metrics`` feeds Prometheus.
- Migrations run once, before any server process starts: the ``migrate`` init container takes a
  Postgres advisory lock, brings the tracking and the auth schema to the image's head and makes sure
  the admin and the metrics user exist with the passwords of their Secrets. The servers then find
  the schema current and the users present, so neither two workers nor two replicas (nor a rolling
  update's old and new pod) run DDL at once (the basic-auth app migrates and creates its admin in
  every worker on a fresh database; with ``--workers 2`` one of them crashed on the duplicate
  ``alembic_version_auth``). An init container rather than a Job: it reruns on every image change
  with no Job to replace, and the lock makes concurrent runs wait instead of race.
- Prometheus scrapes the server itself with basic-auth: ``basic-auth`` protects ``/metrics`` like
  every route but ``/health``. The ServiceMonitor reads a dedicated, non-admin MLflow user
  (``prometheus``) from Secret ``mlflow-scrape`` in the monitoring namespace; the same generated
  password sits in ``mlflow-scrape`` in ``mlops`` for the migrate step that creates the user. We
  chose this over an unauthenticated exporter on a second port: ``up{job="mlflow"}`` then means the
  tracking server (auth, database and all) answers, which ``MlflowTrackingServerDown`` relies on; a
  side exporter would stay up while the server is down. The user gets experiment access only through
  ``default_permission``, like any new user.
"""

from __future__ import annotations

import re
from typing import Any, Optional
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import (
    MLFLOW_ADMIN_SECRET,
    MLFLOW_NAME,
    MLFLOW_PORT,
    MLFLOW_SERVICE_ACCOUNT,
    MONITORING_NAMESPACE,
    PLATFORM_NAMESPACE,
    PRIORITY_SERVING,
    TRACKING_URL,
    MlflowServerArgs,
    ResourceBudget,
    ScrapeTarget,
    SecretKeyRef,
)
from components.k8s import access as sso_parts
from components.k8s.service_users import (SEED_SERVICE_USERS, check_service_users, service_user_env,
                                          service_user_secrets)
from components.k8s._common import (
    InvalidInput,
    app_labels,
    check_no_literal_credentials,
    container_security_context,
    from_cidrs,
    disruption_budget,
    from_namespaces,
    health_probes,
    literal_env,
    metadata,
    replicas_for,
    replicated_deployment_spec,
    require_cidrs,
    require_environment,
    require_pinned_image,
    resources,
    secret_env,
    selector_labels,
    service_account,
    tcp_ports,
    writable_dir,
)

SESSION_KEY_SECRET = "mlflow-session-key"
SCRAPE_SECRET = "mlflow-scrape"  # same name in mlops (migrate step) and monitoring (ServiceMonitor)
METRICS_USERNAME = "prometheus"
MIGRATION_LOCK_KEY = 5_000_726_583  # pg_advisory_lock key of MLflow's migrate step (any bigint, fixed)
# The migrate step's list of extensions to create (policies read it: gcp-sql-databaseinstance-enable-pgaudit).
EXTENSIONS_ENV = "MLOPS_DB_EXTENSIONS"
EXTENSION_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
AUTH_CONFIG_DIR = "/etc/mlflow-auth"
AUTH_CONFIG_PATH = f"{AUTH_CONFIG_DIR}/basic_auth.ini"
METRICS_DIR = "/tmp/prometheus-metrics"
DEFAULT_RESOURCES = ResourceBudget(cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="2Gi")
PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
OFFICIAL_IMAGE = re.compile(r"^ghcr\.io/mlflow/mlflow:v(\d+)\.(\d+)\.(\d+)(-full)?$")
MINIMUM_OFFICIAL_VERSION = (3, 9, 0)  # first release with a -full image; auth has its own alembic table since 3.6

# Annotations that make a LoadBalancer Service internal on each cloud (value compared case-insensitively).
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "internal",
    "cloud.google.com/load-balancer-type": "internal",
}

# Writes the basic-auth ini from environment variables. configparser's reader interpolates '%',
# and URL-encoded passwords contain it, so every value is written with '%' doubled.
_WRITE_AUTH_CONFIG = f"""
import configparser, os
values = {{
    "default_permission": os.environ["MLFLOW_AUTH_DEFAULT_PERMISSION"],
    "database_uri": os.environ["MLFLOW_BACKEND_STORE_URI"],
    "admin_username": os.environ["MLFLOW_AUTH_ADMIN_USERNAME"],
    "admin_password": os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"],
}}
config = configparser.ConfigParser(interpolation=None)
config["mlflow"] = {{key: value.replace("%", "%%") for key, value in values.items()}}
fd = os.open("{AUTH_CONFIG_PATH}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
with os.fdopen(fd, "w") as handle:
    config.write(handle)
""".strip()


# Runs in the init container "migrate" (MLflow's own Python): one migrator at a time (advisory lock),
# the database extensions the tracking backend needs (first, so pgAudit also records the migrations' DDL),
# tracking schema (what `mlflow db upgrade` does; a fresh database gets its tables first, as the
# server would) and auth schema to head, then the admin and metrics users as their Secrets say.
_MIGRATE = f"""
import os, sys
uri = os.environ["MLFLOW_BACKEND_STORE_URI"]
if not uri.startswith("postgresql+psycopg2://"):
    sys.exit("Secret mlflow-database key uri must start with postgresql+psycopg2:// (got " + uri.split(":", 1)[0]
             + "://): SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which the MLflow image does not have")
import sqlalchemy
from mlflow.store.db.utils import _all_tables_exist, _initialize_tables, _upgrade_db, create_sqlalchemy_engine_with_retry
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
{SEED_SERVICE_USERS}
engine = create_sqlalchemy_engine_with_retry(uri)
with engine.connect() as lock:
    lock.execute(sqlalchemy.text("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
    for extension in os.environ.get("{EXTENSIONS_ENV}", "").split():
        with engine.begin() as ddl:
            ddl.execute(sqlalchemy.text('CREATE EXTENSION IF NOT EXISTS "' + extension + '"'))
        print("extension", extension, "ready")
    if _all_tables_exist(engine):
        _upgrade_db(engine)
    else:
        _initialize_tables(engine)
    store = SqlAlchemyStore()
    store.init_db(uri)
    for user, password, admin in ((os.environ["MLFLOW_AUTH_ADMIN_USERNAME"], os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"], True),
                                  (os.environ["MLFLOW_METRICS_USERNAME"], os.environ["MLFLOW_METRICS_PASSWORD"], False)):
        if store.has_user(user):
            store.update_user(user, password=password, is_admin=admin)
        else:
            store.create_user(user, password, is_admin=admin)
        print("user", user, "ready (admin)" if admin else "ready")
    seed_service_users(store, lambda name, password: store.create_user(name, password, is_admin=False),
                       lambda name, password: store.update_user(name, password=password, is_admin=False), uri)
    lock.execute(sqlalchemy.text("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
print("tracking and auth schemas at head")
""".strip()


def allowed_hosts(extra: tuple[str, ...] | list[str]) -> list[str]:
    """Host headers the server accepts (MLflow rejects others to stop DNS rebinding).

    The Service's names with and without the port, loopback for port-forwarding, and private IPs
    (Prometheus scrapes pods by IP), which is also MLflow's own default set.
    """
    names = [MLFLOW_NAME, f"{MLFLOW_NAME}.{PLATFORM_NAMESPACE}", f"{MLFLOW_NAME}.{PLATFORM_NAMESPACE}.svc",
             f"{MLFLOW_NAME}.{PLATFORM_NAMESPACE}.svc.cluster.local", *extra]
    hosts = [host for name in names for host in (name, f"{name}:{MLFLOW_PORT}")]
    hosts += ["localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*", "10.*", "192.168.*"]
    hosts += [f"172.{octet}.*" for octet in range(16, 32)]
    return list(dict.fromkeys(hosts))


class MlflowServer(pulumi.ComponentResource):
    """MLflow tracking server: Deployment, Service, PDB, NetworkPolicy, admin credential."""

    tracking_url: str
    namespace: str
    service_name: str
    admin_secret_name: str
    scrape_target: ScrapeTarget
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    internal_load_balancer: Optional[k8s.core.v1.Service]

    def __init__(self, name: str, args: MlflowServerArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:MlflowServer", name, None, opts)
        environment = require_environment(args.environment)
        image = check_mlflow_image(require_pinned_image(args.image, "MLflow"))
        replicas = replicas_for(environment, args.replicas, "MLflow")
        database_cidrs = require_cidrs(args.database_cidrs, "MlflowServerArgs.database_cidrs")
        check_no_literal_credentials(args.extra_env, "MlflowServerArgs.extra_env")
        if args.default_permission not in PERMISSIONS:
            raise InvalidInput(f"MlflowServerArgs.default_permission {args.default_permission!r} must be one of "
                               f"{', '.join(PERMISSIONS)}")
        check_service_users(args.service_users)
        bad = [e for e in args.database_extensions if not EXTENSION_NAME.match(str(e))]
        if bad:
            raise InvalidInput(f"MlflowServerArgs.database_extensions {bad!r}: each must be a PostgreSQL extension "
                               "name (lower-case letters, digits, underscores)")
        lb_annotations = _check_internal_lb(args)
        namespace = PLATFORM_NAMESPACE
        labels = app_labels(MLFLOW_NAME, "tracking-server")
        child = pulumi.ResourceOptions(parent=self)

        self.service_account = service_account(f"{name}-sa", MLFLOW_SERVICE_ACCOUNT, namespace, labels,
                                               args.service_account_annotations, child)

        admin_password = random.RandomPassword(f"{name}-admin-password", length=32, special=False, opts=child)
        session_key = random.RandomPassword(f"{name}-session-key", length=48, special=False, opts=child)
        self.admin_secret = k8s.core.v1.Secret(
            f"{name}-admin", metadata=metadata(MLFLOW_ADMIN_SECRET, namespace, labels), type="Opaque",
            string_data={"username": args.admin_username, "password": admin_password.result}, opts=child)
        scrape_password = random.RandomPassword(f"{name}-scrape-password", length=32, special=False, opts=child)
        self.scrape_secrets = [k8s.core.v1.Secret(
            f"{name}-scrape{suffix}", metadata=metadata(SCRAPE_SECRET, secret_namespace, labels), type="Opaque",
            string_data={"username": METRICS_USERNAME, "password": scrape_password.result}, opts=child)
            for suffix, secret_namespace in (("", namespace), ("-monitoring", MONITORING_NAMESPACE))]
        self.session_secret = k8s.core.v1.Secret(
            f"{name}-session-key", metadata=metadata(SESSION_KEY_SECRET, namespace, labels), type="Opaque",
            string_data={"key": session_key.result}, opts=child)

        self.service_user_secrets = service_user_secrets(name, args.service_users, labels, child)

        # With SSO the plugin's image runs every container (it is the official image plus mlflow-oidc-auth).
        self.sso = sso_parts.MlflowSso(f"{name}-sso", args.sso, labels, child) if args.sso else None
        if args.sso:
            image = require_pinned_image(args.sso.image, "MLflow (SSO)")

        self.deployment = k8s.apps.v1.Deployment(
            name, metadata=metadata(MLFLOW_NAME, namespace, labels),
            spec=self._deployment_spec(args, image, replicas, labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                self.admin_secret, self.session_secret, *self.scrape_secrets, *self.service_user_secrets,
                *(self.sso.resources if self.sso else [])]))

        ports = [{"name": "http", "port": MLFLOW_PORT, "targetPort": "http", "protocol": "TCP"}]
        self.service = k8s.core.v1.Service(
            f"{name}-service", metadata=metadata(MLFLOW_NAME, namespace, labels),
            spec={"type": "ClusterIP", "selector": selector_labels(MLFLOW_NAME), "ports": ports}, opts=child)
        self.internal_load_balancer = None
        if lb_annotations is not None:
            self.internal_load_balancer = k8s.core.v1.Service(
                f"{name}-internal-lb", metadata=metadata(f"{MLFLOW_NAME}-internal", namespace, labels, lb_annotations),
                spec={"type": "LoadBalancer", "selector": selector_labels(MLFLOW_NAME), "ports": ports,
                      "loadBalancerSourceRanges": sorted(args.load_balancer_source_ranges)}, opts=child)

        disruption_budget(f"{name}-pdb", MLFLOW_NAME, namespace, labels, child)

        callers = [{"from": from_namespaces([*args.client_namespaces, MONITORING_NAMESPACE]), "ports": tcp_ports(["http"])}]
        if lb_annotations is not None:
            callers.append({"from": from_cidrs(args.load_balancer_source_ranges), "ports": tcp_ports(["http"])})
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", metadata=metadata(MLFLOW_NAME, namespace, labels), spec={
            "podSelector": {"matchLabels": selector_labels(MLFLOW_NAME)}, "policyTypes": ["Ingress", "Egress"],
            "ingress": callers,
            "egress": [
                {"to": from_cidrs(database_cidrs), "ports": tcp_ports([5432])},
                # Object store, KMS and the cloud's token endpoint are HTTPS APIs.
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])},
            ],
        }, opts=child)

        self.tracking_url = TRACKING_URL
        self.namespace = namespace
        self.service_name = MLFLOW_NAME
        self.admin_secret_name = MLFLOW_ADMIN_SECRET
        self.scrape_target = ScrapeTarget(name=MLFLOW_NAME, namespace=namespace,
                                          service_labels=selector_labels(MLFLOW_NAME), port="http",
                                          basic_auth_secret=SCRAPE_SECRET)
        self.register_outputs({"trackingUrl": self.tracking_url, "adminSecret": self.admin_secret_name,
                               "serviceAccount": MLFLOW_SERVICE_ACCOUNT})

    @staticmethod
    def _deployment_spec(args: MlflowServerArgs, image: str, replicas: int, labels: dict[str, str]) -> dict[str, Any]:
        database = secret_env("MLFLOW_BACKEND_STORE_URI", args.database_secret)
        auth_init = {
            "name": "auth-config", "image": image, "command": ["python", "-c", _WRITE_AUTH_CONFIG],
            "env": [
                database,
                {"name": "MLFLOW_AUTH_DEFAULT_PERMISSION", "value": args.default_permission},
                secret_env("MLFLOW_AUTH_ADMIN_USERNAME", SecretKeyRef(MLFLOW_ADMIN_SECRET, "username")),
                secret_env("MLFLOW_AUTH_ADMIN_PASSWORD", SecretKeyRef(MLFLOW_ADMIN_SECRET, "password")),
            ],
            "resources": resources(ResourceBudget("50m", "64Mi", "200m", "128Mi")),
            "securityContext": container_security_context(),
            "volumeMounts": [{"name": "auth-config", "mountPath": AUTH_CONFIG_DIR}],
        }
        migrate = {
            "name": "migrate", "image": image, "command": ["python", "-c", _MIGRATE],
            "env": [
                database,
                {"name": "MLFLOW_AUTH_CONFIG_PATH", "value": AUTH_CONFIG_PATH},
                {"name": "PGSSLMODE", "value": "require"},
                {"name": "HOME", "value": "/tmp"},
                secret_env("MLFLOW_AUTH_ADMIN_USERNAME", SecretKeyRef(MLFLOW_ADMIN_SECRET, "username")),
                secret_env("MLFLOW_AUTH_ADMIN_PASSWORD", SecretKeyRef(MLFLOW_ADMIN_SECRET, "password")),
                secret_env("MLFLOW_METRICS_USERNAME", SecretKeyRef(SCRAPE_SECRET, "username")),
                secret_env("MLFLOW_METRICS_PASSWORD", SecretKeyRef(SCRAPE_SECRET, "password")),
                *service_user_env(args.service_users),
                *([{"name": EXTENSIONS_ENV, "value": " ".join(args.database_extensions)}] if args.database_extensions else []),
            ],
            "resources": resources(ResourceBudget("100m", "256Mi", "1", "512Mi")),
            "securityContext": container_security_context(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                             {"name": "auth-config", "mountPath": AUTH_CONFIG_DIR, "readOnly": True}],
        }
        # Behind the front door the browser sends the private hostname (components/access/frontdoor.py).
        sso_hosts = [urlparse(args.sso.redirect_url).hostname or ""] if args.sso else []
        command = [
            "mlflow", "server", "--host", "0.0.0.0", "--port", str(MLFLOW_PORT), "--workers", "2",
            "--app-name", "basic-auth", "--serve-artifacts", "--artifacts-destination", args.artifacts_destination,
            "--expose-prometheus", METRICS_DIR, "--allowed-hosts", ",".join(allowed_hosts(list(args.extra_allowed_hosts) + sso_hosts)),
        ]
        env = [
            database,
            secret_env("MLFLOW_FLASK_SERVER_SECRET_KEY", SecretKeyRef(SESSION_KEY_SECRET, "key")),
            {"name": "MLFLOW_AUTH_CONFIG_PATH", "value": AUTH_CONFIG_PATH},
            # libpq uses TLS even when the URI in the Secret forgot sslmode.
            {"name": "PGSSLMODE", "value": "require"},
            {"name": "HOME", "value": "/tmp"},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
            *literal_env(args.extra_env),
        ]
        server = {
            "name": MLFLOW_NAME, "image": image, "command": command, "env": env,
            "ports": [{"name": "http", "containerPort": MLFLOW_PORT, "protocol": "TCP"}],
            "resources": resources(args.resources or DEFAULT_RESOURCES),
            "securityContext": container_security_context(),
            # Migrations ran in the init container; startup is loading MLflow and checking the schema.
            **health_probes("http", startup_seconds=180),
            "volumeMounts": [
                {"name": "tmp", "mountPath": "/tmp"},
                {"name": "auth-config", "mountPath": AUTH_CONFIG_DIR, "readOnly": True},
            ],
        }
        init_containers = [auth_init, migrate]
        volumes = [writable_dir("tmp", "1Gi"), writable_dir("auth-config", "1Mi", memory=True)]
        if args.sso is not None:
            command[command.index("basic-auth")] = "oidc-auth"
            env += sso_parts.server_env(args.sso)
            server["volumeMounts"] += sso_parts.server_mounts(args.sso)
            init_containers.append(sso_parts.config_init_container(args.sso, database, SCRAPE_SECRET,
                                                                   service_user_env(args.service_users)))
            volumes += sso_parts.volumes(args.sso)
        return replicated_deployment_spec(MLFLOW_NAME, replicas, {**labels, **args.workload_identity_pod_labels}, {
            "terminationGracePeriodSeconds": 30,
            "initContainers": init_containers,
            "containers": [server],
            "volumes": volumes,
        }, PRIORITY_SERVING)


def check_mlflow_image(image: str) -> str:
    """The official image must be a release this Deployment can run: it needs the Postgres driver,
    the object-store clients and the auth extra (the ``-full`` variant), the ``--allowed-hosts``
    flag, and auth tables that can share the tracking database (MLflow >= 3.6). Custom builds and
    digests are the builder's responsibility.
    """
    match = OFFICIAL_IMAGE.match(image)
    if match is None:
        return image
    version = tuple(int(part) for part in match.groups()[:3])
    if version < MINIMUM_OFFICIAL_VERSION or not match.group(4):
        raise InvalidInput(f"MLflow image {image!r} cannot run this server: use the official '-full' image of MLflow "
                           ">= 3.9 (Postgres driver, object-store clients, basic-auth), e.g. ghcr.io/mlflow/mlflow:v3.10.1-full")
    return image


def _check_internal_lb(args: MlflowServerArgs) -> Optional[dict[str, str]]:
    annotations = args.internal_load_balancer_annotations
    if annotations is None:
        return None
    internal = any(str(annotations.get(key, "")).lower() == value for key, value in INTERNAL_LB_ANNOTATIONS.items())
    if not internal:
        raise InvalidInput("MlflowServerArgs.internal_load_balancer_annotations must make the load balancer internal "
                           f"(one of: {', '.join(f'{k}={v}' for k, v in INTERNAL_LB_ANNOTATIONS.items())})")
    if not args.load_balancer_source_ranges:
        raise InvalidInput("MlflowServerArgs.load_balancer_source_ranges must list the private ranges allowed through "
                           "the internal load balancer (include the nodes' range: the load balancer may SNAT)")
    require_cidrs(args.load_balancer_source_ranges, "MlflowServerArgs.load_balancer_source_ranges")
    return dict(annotations)
