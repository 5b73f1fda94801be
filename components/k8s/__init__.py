"""In-cluster workloads that turn a bare cluster into the platform, written once for every cloud.

Nothing here imports a cloud SDK. A cloud's stack builder passes a ``pulumi_kubernetes.Provider``
(``opts=ResourceOptions(provider=cluster.k8s_provider)``) and cloud-neutral inputs: workload-identity
annotations for service accounts, object-store URIs, and references to Kubernetes Secrets it fills
itself (on AWS: External Secrets Operator from Secrets Manager).

Contract (names the cloud layers rely on; renaming any of them breaks IAM trust policies):

================  ===========================  ===================================================
namespace         service account              what runs there
================  ===========================  ===================================================
``mlops``         ``mlflow``                   MLflow tracking server, Service ``mlflow`` port 5000
``mlops``         ``feast``                    Feast feature server, Service ``feast`` port 6566
``monitoring``    ``alertmanager``             Alertmanager (annotate for SNS / cloud notifications)
``monitoring``    (chart-managed)              Prometheus, Grafana, operator, kube-state-metrics
``training``      ``trainer``                  training jobs (PriorityClass ``training-preemptible``)
``serving``       (teams' own)                 model servers (PriorityClass ``serving-critical``)
``node-agents``   ``nvidia-device-plugin``,    agents that touch the node (privileged Pod Security
                  ``dcgm-exporter``,           level, nothing else runs there): NVIDIA device
                  (chart) node-exporter        plugin and DCGM exporter on GPU nodes, node-exporter
================  ===========================  ===================================================

Pod Security admission: ``mlops``, ``training``, ``serving`` enforce ``restricted``; ``monitoring``
enforces ``baseline`` and warns/audits ``restricted`` (third-party chart pods); ``node-agents``
is ``privileged`` because the device plugin needs the kubelet's device-plugin directory.

- Tracking URL (in-cluster): ``http://mlflow.mlops.svc.cluster.local:5000`` (``TRACKING_URL``).
- Feature server URL: ``http://feast.mlops.svc.cluster.local:6566`` (``FEATURE_SERVER_URL``).
- MLflow database: a Secret in namespace ``mlops`` holding the SQLAlchemy URI
  (``postgresql+psycopg2://user:pass@host:5432/mlflow?sslmode=require``: name the driver); default reference
  ``MLFLOW_DATABASE_SECRET`` = Secret ``mlflow-database``, key ``uri``. The cloud layer creates it
  (create it after ``ClusterBaseline``, whose ``namespaces["mlops"]`` you can depend on).
  The server also sets ``PGSSLMODE=require``, so a URI without ``sslmode`` still uses TLS.
- MLflow authentication: MLflow's ``basic-auth`` app. The admin credential is generated
  (``pulumi_random``) into Secret ``mlflow-admin`` (keys ``username``, ``password``) in ``mlops``;
  users read it with ``kubectl -n mlops get secret mlflow-admin``. Auth data lives in the same
  database (MLflow >= 3.6 keeps its own ``alembic_version_auth`` table). The image must carry the
  Postgres driver, the object-store client and the auth extra: the official image is accepted as
  ``ghcr.io/mlflow/mlflow:v3.9+-full`` (e.g. ``v3.10.1-full``); custom builds are not checked.
- Node labels/taints the cloud layer puts on node pools (Karpenter NodePools on AWS):
  ``mlops.dev/pool=<pool name>``, ``mlops.dev/capacity-type=spot|on-demand``,
  ``mlops.dev/accelerator=nvidia-gpu`` on GPU nodes, taint ``nvidia.com/gpu=true:NoSchedule`` on GPU
  nodes. GPU agents select ``mlops.dev/accelerator=nvidia-gpu`` and tolerate every taint.

Components (type tokens ``mlops:k8s:<Name>``), each in its own module, Args defined here:

- ``ClusterBaseline`` (baseline.py): namespaces with Pod Security labels, PriorityClasses,
  ResourceQuotas, LimitRanges, default-deny NetworkPolicies and the allows the platform needs.
- ``MlflowServer`` (mlflow.py), ``FeatureServer`` (feast.py), ``MonitoringStack`` (monitoring.py),
  ``GpuNodeAgents`` (gpu.py), and ``PlatformWorkloads`` (platform.py) that builds all of them from
  one ``PlatformWorkloadsArgs`` — what a stack builder normally uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi

# --- Names (the contract) --------------------------------------------------------------------

PLATFORM_NAMESPACE = "mlops"
MONITORING_NAMESPACE = "monitoring"
TRAINING_NAMESPACE = "training"
SERVING_NAMESPACE = "serving"
NODE_AGENTS_NAMESPACE = "node-agents"
NAMESPACES = (PLATFORM_NAMESPACE, MONITORING_NAMESPACE, TRAINING_NAMESPACE, SERVING_NAMESPACE, NODE_AGENTS_NAMESPACE)

MLFLOW_NAME = "mlflow"  # Deployment, Service and ServiceAccount name
MLFLOW_PORT = 5000
MLFLOW_SERVICE_ACCOUNT = MLFLOW_NAME
MLFLOW_ADMIN_SECRET = "mlflow-admin"
TRACKING_URL = f"http://{MLFLOW_NAME}.{PLATFORM_NAMESPACE}.svc.cluster.local:{MLFLOW_PORT}"

FEAST_NAME = "feast"
FEAST_PORT = 6566
FEAST_METRICS_PORT = 8000
FEAST_SERVICE_ACCOUNT = FEAST_NAME
FEATURE_SERVER_URL = f"http://{FEAST_NAME}.{PLATFORM_NAMESPACE}.svc.cluster.local:{FEAST_PORT}"

ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
# Files Alertmanager's receivers read (``*_file`` settings): the MonitoringStack writes
# ``MonitoringStackArgs.alertmanager_files`` into this Secret, which the operator mounts under the path.
ALERTMANAGER_FILES_SECRET = "alertmanager-files"
ALERTMANAGER_FILES_DIR = f"/etc/alertmanager/secrets/{ALERTMANAGER_FILES_SECRET}"
GRAFANA_ADMIN_SECRET = "grafana-admin"
TRAINING_SERVICE_ACCOUNT = "trainer"
# `app.kubernetes.io/name` of the platform's Ray pods in `training` (components/training/distributed.py): the
# baseline's any-port peer rule leaves them out, their own NetworkPolicy names Ray's ports.
RAY_TRAINING_APP = "ray-training"
# The serving request log sink (components/serving/request_log.py): its own policy names its only caller, so the
# serving namespace's open "workloads" policy leaves it out.
REQUEST_LOG_APP = "request-log"

DEVICE_PLUGIN_NAME = "nvidia-device-plugin"
DCGM_EXPORTER_NAME = "dcgm-exporter"
DCGM_EXPORTER_PORT = 9400

PRIORITY_TRAINING = "training-preemptible"
PRIORITY_SERVING = "serving-critical"
PRIORITY_NODE_AGENT = "system-node-critical"  # built in; node agents must outlive the pods they serve

POOL_LABEL = "mlops.dev/pool"
CAPACITY_TYPE_LABEL = "mlops.dev/capacity-type"
ACCELERATOR_LABEL = "mlops.dev/accelerator"
GPU_ACCELERATOR = "nvidia-gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"


@dataclass(frozen=True)
class SecretKeyRef:
    """One key of a Kubernetes Secret in the consuming workload's namespace.

    Workloads read it with ``valueFrom.secretKeyRef``; the value never passes through Pulumi.
    """

    name: str
    key: str


MLFLOW_DATABASE_SECRET = SecretKeyRef(name="mlflow-database", key="uri")


@dataclass(frozen=True)
class ResourceBudget:
    """Requests/limits of one container (Kubernetes quantities)."""

    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class NamespaceQuota:
    """ResourceQuota hard limits for one namespace (Kubernetes quantities)."""

    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int
    gpus: int = 0  # requests.nvidia.com/gpu


# --- Args ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdentityEndpoint:
    """An endpoint pods must reach to get workload-identity tokens that plain HTTPS egress does not cover
    (GKE's metadata server: 169.254.169.254:80 with Dataplane V2, 169.254.169.252:988 otherwise)."""

    cidr: str
    port: int


@dataclass
class ClusterBaselineArgs:
    environment: str  # dev | staging | prod
    # Private address ranges of the cluster's network (VPC/VNet CIDRs, plus a private control-plane
    # range where the cloud has one): nodes, databases, API server endpoints, internal LB clients.
    private_network_cidrs: Sequence[str]
    # Most nodes the cluster can have (system nodes + every pool's maxNodes) and how many of them
    # can be GPU nodes: node-agent quotas scale with them (one agent pod per node).
    max_nodes: int
    max_gpu_nodes: int = 0
    # Workload identity for training jobs (e.g. {"eks.amazonaws.com/role-arn": role.arn}).
    training_service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Per-namespace ResourceQuota overrides; the rest keep the environment's defaults (baseline.py).
    quotas: Mapping[str, NamespaceQuota] = field(default_factory=dict)
    # Token endpoints of the cloud's workload identity outside HTTPS (the cluster says which: GCP's
    # Cluster.identity_endpoints); opened for every namespace whose pods use workload identity.
    identity_endpoints: Sequence[IdentityEndpoint] = ()


@dataclass(frozen=True)
class MlflowServiceUser:
    """A non-admin MLflow user of a workload outside ``mlops`` (the retraining pipeline's steps).

    Its owner generates the password and keeps a copy of Secret ``secret`` (keys ``username``, ``password``)
    in its own namespace; MlflowServer keeps the copy in ``mlops`` that its ``migrate`` step reads to create
    the user, create ``registered_model`` when it does not exist yet (so the user is not its creator, which
    MLflow would make MANAGE) and grant the user ``permission`` on that model only. Runs in experiments the
    user creates are its own (MLflow gives a creator MANAGE on an experiment); everything else it sees
    with the server's default permission.
    """

    secret: str
    username: str
    password: pulumi.Input[str]  # a Pulumi secret
    registered_model: str
    permission: str = "EDIT"


@dataclass
class MlflowServerArgs:
    environment: str
    image: str  # pinned tag or digest; official images: ghcr.io/mlflow/mlflow:v3.9+-full
    artifacts_destination: pulumi.Input[str]  # s3://bucket/prefix, gs://..., wasbs://...
    # Where the database lives (egress on 5432 is allowed to these ranges only).
    database_cidrs: Sequence[str]
    database_secret: SecretKeyRef = MLFLOW_DATABASE_SECRET
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Pod labels some clouds need for workload identity (Azure: azure.workload.identity/use=true).
    workload_identity_pod_labels: Mapping[str, str] = field(default_factory=dict)
    # Non-secret environment the object-store client needs (e.g. AWS_REGION); credentials are refused.
    extra_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    replicas: Optional[int] = None  # None: 1 in dev, 2 in staging/prod (prod refuses fewer than 2)
    resources: Optional[ResourceBudget] = None
    # Namespaces whose pods may call the tracking server (monitoring may always scrape it).
    client_namespaces: Sequence[str] = (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, SERVING_NAMESPACE)
    # Annotations of an internal LoadBalancer Service (cloud-specific; they must make it internal).
    # None = ClusterIP only (reach it in cluster or through kubectl port-forward).
    internal_load_balancer_annotations: Optional[Mapping[str, str]] = None
    load_balancer_source_ranges: Sequence[str] = ()  # private ranges allowed through the LB
    extra_allowed_hosts: Sequence[str] = ()  # Host headers to accept besides the Service names (LB DNS name)
    default_permission: str = "READ"  # basic-auth permission of a new user: READ | EDIT | MANAGE | NO_PERMISSIONS
    admin_username: str = "admin"
    # What the server reads that other components make: its database, the Secret holding the URI, the
    # endpoint the URI names (Azure DR: the writer virtual endpoint). The server waits for them, or its
    # readiness wait runs out while they are still being created.
    depends_on: Sequence[pulumi.Resource] = ()
    # Single sign-on (components/k8s/access.py): None keeps MLflow's basic-auth app.
    sso: Optional["MlflowSsoArgs"] = None  # noqa: F821 (defined in components.k8s.access)
    # Service users of other workloads, each with one permission on one registered model.
    service_users: Sequence[MlflowServiceUser] = ()
    # PostgreSQL extensions the migrate step creates in MLflow's database before migrating (the tracking
    # capability's ``db_extensions``, e.g. pgaudit on Cloud SQL); the database user must be allowed to.
    database_extensions: Sequence[str] = ()


@dataclass
class FeatureServerArgs:
    environment: str
    image: str  # pinned feastdev/feature-server tag or digest
    project: str  # Feast project name
    registry_path: pulumi.Input[str]  # s3://bucket/registry.db, gs://..., az://...
    provider: str  # Feast provider: aws | gcp | azure | local
    # feature_store.yaml's online_store, e.g. {"type": "dynamodb", "region": "eu-west-1"}; values may be Outputs.
    online_store: Mapping[str, Any]
    offline_store: Optional[Mapping[str, Any]] = None
    # Secrets the config refers to as ${NAME} (Feast expands environment variables in its config).
    secret_env: Mapping[str, SecretKeyRef] = field(default_factory=dict)
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    workload_identity_pod_labels: Mapping[str, str] = field(default_factory=dict)
    extra_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    replicas: Optional[int] = None
    resources: Optional[ResourceBudget] = None
    registry_cache_ttl_seconds: int = 60
    # Feast infers the registry store from s3:// and gs:// paths; Azure Blob paths (https://...) need
    # it named: "AzureRegistryStore".
    registry_store_type: Optional[str] = None
    client_namespaces: Sequence[str] = (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, SERVING_NAMESPACE)
    # TCP ports the server opens outside the cluster (object store / online store APIs, STS): 443,
    # plus e.g. 6380 for Azure Cache for Redis.
    egress_ports: Sequence[int] = (443,)
    # What the server reads that other components make (the online store and its connection Secret).
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class AlertReceiver:
    """An Alertmanager receiver: ``config`` is its body without ``name`` (e.g. {"sns_configs": [...]}).

    Credential fields (``auth_password``, ``api_url`` of Slack, ...) are refused: use their ``*_file``
    variants or a receiver that authenticates with workload identity (SNS with sigv4).
    """

    name: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class AlertRoute:
    """A child route of Alertmanager's tree: alerts matching ``matchers`` go to ``receiver``."""

    receiver: str
    matchers: Sequence[str]  # e.g. ('severity="critical"',)
    group_by: Sequence[str] = ("alertname", "namespace")
    repeat_interval: str = "4h"
    continue_matching: bool = False


@dataclass(frozen=True)
class ScrapeTarget:
    """A Service Prometheus scrapes through a ServiceMonitor (MlflowServer/FeatureServer expose one)."""

    name: str
    namespace: str
    service_labels: Mapping[str, str]
    port: str  # the Service port name
    path: str = "/metrics"
    interval: str = "30s"
    # Secret in the monitoring namespace with keys username/password when the endpoint needs basic-auth.
    basic_auth_secret: Optional[str] = None
    # Keep the scraped series' own job/instance labels (a Pushgateway: the pusher's labels, not the gateway's).
    honor_labels: bool = False


@dataclass(frozen=True)
class DashboardQuery:
    """A cloud-specific PromQL series for a dashboard panel (e.g. the interruption consumer's counters)."""

    title: str
    expr: str
    legend: str = ""


@dataclass
class MonitoringStackArgs:
    environment: str
    metrics_retention_days: int
    # The cluster network's private ranges: Prometheus scrapes kubelets and node-exporter on node
    # IPs there, and the API server calls the operator's admission webhook from there.
    private_network_cidrs: Sequence[str]
    storage_class_name: Optional[str] = None  # None = the cluster's default class
    prometheus_storage_gb: Optional[int] = None  # None: derived from retention
    # The first receiver is the default route (alerts no child route matches still reach someone);
    # with none, alerts are only visible in Alertmanager/Grafana.
    alert_receivers: Sequence[AlertReceiver] = ()
    alert_routes: Sequence[AlertRoute] = ()
    alertmanager_service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Secret files for receivers (file name -> content, e.g. an SMTP password), under ALERTMANAGER_FILES_DIR.
    alertmanager_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    scrape_targets: Sequence[ScrapeTarget] = ()
    # Series for the "spot interruptions" dashboard from the cloud's interruption consumer
    # (Karpenter on AWS); the neutral panels (spot nodes, cordoned spot nodes, evicted training
    # pods) are always there.
    interruption_queries: Sequence[DashboardQuery] = ()
    gpu_metrics: bool = True  # scrape DCGM exporter, GPU panels on dashboards
    # Single sign-on (components/k8s/grafana_sso.py): None keeps Grafana's admin login only.
    sso: Optional["GrafanaSsoArgs"] = None  # noqa: F821 (defined in components.k8s.grafana_sso)


@dataclass
class GpuNodeAgentsArgs:
    # False where the node image or the cloud runs its own device plugin (GKE, Bottlerocket NVIDIA).
    device_plugin: bool = True
    dcgm_exporter: bool = True


@dataclass
class PlatformWorkloadsArgs:
    """Everything a stack builder passes to get the whole in-cluster platform."""

    baseline: ClusterBaselineArgs
    mlflow: MlflowServerArgs
    feast: FeatureServerArgs
    monitoring: MonitoringStackArgs
    gpu: Optional[GpuNodeAgentsArgs] = None  # None when no training pool has GPUs
