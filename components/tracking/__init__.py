"""MLflow tracking: a managed Postgres backend store, an object-store artifact root, and the identity
the in-cluster MLflow server uses to reach both.

The MLflow Deployment/Service themselves are cloud-neutral and live in ``components/k8s``; this
capability builds what they stand on and tells them where it is.

Contract (every cloud's implementation exposes these outputs as attributes):

- ``tracking_url``: the in-cluster URL of the MLflow service
  (``http://<service>.<namespace>.svc.cluster.local:<port>``); internal only.
- ``artifact_bucket``: the artifact bucket/container name.
- ``artifact_root``: the MLflow ``--default-artifact-root`` URI (e.g. ``s3://<bucket>/mlflow``).
- ``db_instance_id`` / ``db_instance_arn``: the database instance's identifier and cloud id.
- ``db_endpoint_record``: ``{"zone_id", "name"}`` of the private DNS record MLflow uses as its
  database host; failover repoints this record, MLflow's config never changes.
- ``db_connection_secret``: ``{"name", "key", "namespace"}`` of the Kubernetes Secret holding the
  SQLAlchemy URI (``postgresql+psycopg2://...?sslmode=require``, see ``database_uri``) that MLflow
  reads as its backend store.
- ``db_extensions``: PostgreSQL extensions the database's own settings need created in MLflow's
  database (GCP: ``pgaudit``; none on AWS and Azure); MLflow's migrate step creates them.
- ``service_account_role``: the cloud identity bound to MLflow's Kubernetes service account
  (AWS: IRSA role ARN), scoped to the artifact prefix and this database only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import quote

from components.k8s import MLFLOW_DATABASE_SECRET, MLFLOW_NAME, MLFLOW_PORT, MLFLOW_SERVICE_ACCOUNT, PLATFORM_NAMESPACE

# Names shared with the in-cluster MLflow deployment: components/k8s owns them (its contract).
MLFLOW_NAMESPACE = PLATFORM_NAMESPACE
MLFLOW_SERVICE = MLFLOW_NAME
MLFLOW_DB_SECRET = MLFLOW_DATABASE_SECRET.name
MLFLOW_DB_SECRET_KEY = MLFLOW_DATABASE_SECRET.key


# The backend store's SQLAlchemy dialect and driver. A bare ``postgresql://`` means "the default
# driver", which SQLAlchemy 2.1 changed from psycopg2 to psycopg 3; the MLflow image carries psycopg2
# only (``mlflow[db]`` -> psycopg2-binary) and resolves SQLAlchemy 2.1, so the URI names the driver.
DATABASE_URI_SCHEME = "postgresql+psycopg2"


def database_uri(username: str, password: str, host: str, port: int, database: str) -> str:
    """MLflow's backend-store URI: driver named, user and password percent-encoded, TLS required."""
    return (f"{DATABASE_URI_SCHEME}://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{database}"
            "?sslmode=require")


def tracking_url(namespace: str = MLFLOW_NAMESPACE, service: str = MLFLOW_SERVICE, port: int = MLFLOW_PORT) -> str:
    """The cluster-internal URL clients (training jobs, notebooks in cluster) use."""
    return f"http://{service}.{namespace}.svc.cluster.local:{port}"


def postgres_major(engine_version: str) -> str:
    """'16.6' -> '16' (parameter-group families and DR replicas follow the major version)."""
    match = re.fullmatch(r"(\d+)(\.\d+)?", engine_version)
    if not match:
        raise ValueError(f"engine version {engine_version!r} is not like '16' or '16.6'")
    return match.group(1)


@dataclass(frozen=True)
class TrackingArgs:
    """What every cloud needs for the tracking backend."""

    name: str  # resource-name prefix, e.g. "mlops-dev"
    environment: str  # dev | staging | prod (names the private DNS zone)
    db_instance_class: str
    db_allocated_storage_gb: int
    db_engine_version: str
    multi_az: bool
    backup_retention_days: int
    deletion_protection: bool  # also Pulumi `protect` on the database and the bucket
    performance_insights: bool  # prod: on, encrypted with the database key
    db_name: str = "mlflow"
    db_username: str = "mlflow"
    artifact_prefix: str = "mlflow"
    # Storage autoscaling ceiling, as a multiple of the allocated size.
    db_max_storage_factor: int = 4
    log_retention_days: int = 30
    namespace: str = MLFLOW_NAMESPACE
    service_account: str = MLFLOW_SERVICE_ACCOUNT
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        postgres_major(self.db_engine_version)

    @property
    def private_zone(self) -> str:
        """Private DNS zone of this environment's internal names."""
        return f"{self.environment}.mlops.internal"

    @property
    def db_record_name(self) -> str:
        return f"tracking-db.{self.private_zone}"

    @property
    def db_max_storage_gb(self) -> int:
        return min(self.db_allocated_storage_gb * self.db_max_storage_factor, 16384)

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "TrackingArgs":
        """The args a stack builder passes, resolved from the platform config."""
        return cls(
            name=name, environment=cfg.environment,
            db_instance_class=cfg.db_instance_class,
            db_allocated_storage_gb=cfg.tracking.db_allocated_storage_gb,
            db_engine_version=cfg.tracking.db_engine_version,
            multi_az=cfg.multi_az_database,
            backup_retention_days=cfg.backup_retention_days,
            deletion_protection=cfg.deletion_protection,
            performance_insights=cfg.is_prod,
            tags=dict(tags),
        )
