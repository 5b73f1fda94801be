"""The stack configuration's top-level model: `PlatformConfig` (every `mlops:*` key) and its own parts.

Keys with rules of their own live in their modules (`config_training.py`, `config_serving.py`, ...);
`stacks/config.py` loads a stack file into this model and reports every problem, one line each.
`PlatformConfig`'s properties resolve environment defaults (prod vs dev) once, so components never
re-derive them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Literal, Optional

from pydantic import Field, field_validator

from stacks.access_config import AccessConfig
from stacks.config_base import PINNED_IMAGE, ConfigModel, refuse_latest
from stacks.config_delivery import AlertSmtp, AzureConfig
from stacks.config_pipelines import PipelinesConfig
from stacks.config_serving import ServingConfig
from stacks.config_training import TrainingConfig

# Sizes whose names differ per cloud; the stack file may set any of them explicitly.
CLOUD_DEFAULTS = {
    "aws": {"system_node_instance_type": "m6i.large", "db_instance_class": "db.t4g.medium"},
    "azure": {"system_node_instance_type": "Standard_D4s_v5", "db_instance_class": "Standard_D2ds_v5"},
    "gcp": {"system_node_instance_type": "e2-standard-4", "db_instance_class": "db-custom-2-7680"},
}


class NetworkConfig(ConfigModel):
    cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.40.0.0/16")
    # None means "the environment's default": 2 zones in dev, 3 in staging/prod.
    az_count: Optional[int] = Field(default=None, ge=2, le=6)
    # None means "the environment's default": one NAT in dev, one per zone in staging/prod.
    nat_gateway_per_az: Optional[bool] = None

    @field_validator("cidr")
    @classmethod
    def _private_and_large_enough(cls, value: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
        if not value.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        if value.prefixlen > 20:
            raise ValueError("must be /20 or larger (the platform carves public, private and data subnets per zone)")
        return value


class ClusterConfig(ConfigModel):
    version: str = Field(default="1.35", pattern=r"^1\.\d{2}$")
    # Public API endpoint CIDRs; only dev may open the endpoint, never to the whole internet.
    public_access_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    # None = the cloud's default (CLOUD_DEFAULTS): instance type names differ per cloud.
    system_node_instance_type: Optional[str] = None
    system_node_count: int = Field(default=2, ge=1, le=10)


class TrackingConfig(ConfigModel):
    db_instance_class: Optional[str] = None  # None = the cloud's default (CLOUD_DEFAULTS)
    db_allocated_storage_gb: int = Field(default=20, ge=20, le=16384)
    # A major version lets RDS pick its current minor (and upgrade it); every value is checked against
    # the support-window table (stacks/versions.py) on the day the config is validated.
    db_engine_version: str = Field(default="16", pattern=r"^\d+(\.\d+)?$")
    # None means "the environment's default": single-AZ in dev, multi-AZ in staging/prod.
    multi_az: Optional[bool] = None
    backup_retention_days: Optional[int] = Field(default=None, ge=1, le=35)
    mlflow_image: str = Field(default="ghcr.io/mlflow/mlflow:v3.10.1-full", pattern=PINNED_IMAGE)

    _pinned = field_validator("mlflow_image")(staticmethod(refuse_latest))


FEAST_IMAGE = "ghcr.io/mlops-platform/feast-feature-server:0.50.0-r1"
# Upstream Feast images built from feast[minimal]: no azure-storage-blob/azure-identity (Feast's own
# feature_servers/multicloud/requirements.txt at each tag).
UPSTREAM_FEAST_IMAGES = ("feastdev/feature-server", "docker.io/feastdev/feature-server", "quay.io/feastdev/feature-server")


class FeaturesConfig(ConfigModel):
    # The platform's own image (images/feast-feature-server, pushed by .github/workflows/feast-image.yml under
    # the repository owner): upstream feastdev/feature-server lacks the Azure registry store's packages.
    feast_image: str = Field(default=FEAST_IMAGE, pattern=PINNED_IMAGE)
    online_store_ttl_days: Optional[int] = Field(default=None, ge=1, le=3650)
    # Feast project; the deployed project is "<project>_<environment>" so stacks sharing an account never collide.
    project: str = Field(default="mlops", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    # Feature views served online. Each gets its own platform-managed online table (CMK, PITR,
    # DR replica) named as Feast expects ("<project>.<view>"); Feast cannot create tables itself.
    online_feature_views: list[str] = Field(default_factory=lambda: ["default"], min_length=1)

    _pinned = field_validator("feast_image")(staticmethod(refuse_latest))

    @field_validator("online_feature_views")
    @classmethod
    def _view_names(cls, value: list[str]) -> list[str]:
        for view in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", view):
                raise ValueError(f"{view!r} is not a feature view name (lowercase letters, digits, _; starts with a letter)")
        if len(set(value)) != len(value):
            raise ValueError("feature view names must be unique")
        return value


class RegistryConfig(ConfigModel):
    # Untagged images (superseded builds, failed pushes) are deleted after this many days.
    untagged_image_expiry_days: int = Field(default=14, ge=1, le=365)
    # A SageMaker model package group for teams that deploy on SageMaker (off by default).
    sagemaker_model_package_group: bool = False


class TrainingPool(ConfigModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    accelerator: Literal["none", "nvidia-gpu"] = "none"
    instance_types: list[str] = Field(min_length=1)
    min_nodes: int = Field(default=0, ge=0)
    max_nodes: int = Field(ge=1, le=1000)
    spot: bool = True


class MonitoringConfig(ConfigModel):
    alert_emails: list[str] = Field(default_factory=list)
    alert_smtp: Optional[AlertSmtp] = None
    monthly_budget_usd: float = Field(default=500, gt=0)
    metrics_retention_days: int = Field(default=15, ge=1, le=400)
    # GCP only: budgets belong to a Cloud Billing account, not to the project (none: no budget).
    billing_account: Optional[str] = Field(default=None, pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValueError(f"{email!r} is not an email address")
        return value


class DrConfig(ConfigModel):
    enabled: bool = False
    replica_region: Optional[str] = None
    rpo_minutes: int = Field(default=15, ge=1, le=1440)
    rto_minutes: int = Field(default=60, ge=1, le=2880)
    # Address range of the DR region's (data-only) network; None = the range right after network.cidr.
    network_cidr: Optional[ipaddress.IPv4Network] = None

    @field_validator("network_cidr")
    @classmethod
    def _dr_private(cls, value: Optional[ipaddress.IPv4Network]) -> Optional[ipaddress.IPv4Network]:
        if value is not None and (not value.is_private or value.prefixlen > 24):
            raise ValueError("must be a private (RFC 1918) range of /24 or larger")
        return value


class Waiver(ConfigModel):
    policy: str = Field(min_length=1)
    resource: str = Field(min_length=1, description="resource name, or a URN pattern with * wildcards")
    reason: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    expires: dt.date


class PlatformConfig(ConfigModel):
    cloud: Literal["aws", "azure", "gcp"]
    region: str
    environment: Literal["dev", "staging", "prod"] = "dev"
    owner: str = Field(default="ml-platform", pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    tags: dict[str, str] = Field(default_factory=dict)
    deletion_protection: bool = False
    network: NetworkConfig = NetworkConfig()
    cluster: ClusterConfig = ClusterConfig()
    tracking: TrackingConfig = TrackingConfig()
    features: FeaturesConfig = FeaturesConfig()
    registry: RegistryConfig = RegistryConfig()
    training_pools: list[TrainingPool] = Field(default_factory=list)
    monitoring: MonitoringConfig = MonitoringConfig()
    dr: DrConfig = DrConfig()
    access: AccessConfig = AccessConfig()
    # Secret config (`pulumi config set --secret mlops:accessClientSecret`): wrapped in Output.secret where used.
    access_client_secret: Optional[str] = Field(default=None, min_length=1, repr=False)
    pipelines: PipelinesConfig = PipelinesConfig()
    training: TrainingConfig = TrainingConfig()
    serving: ServingConfig = ServingConfig()
    azure: AzureConfig = AzureConfig()
    # The SMTP password of monitoring.alertSmtp.username (set it with `pulumi config set --secret`).
    alert_smtp_password: Optional[str] = Field(default=None, min_length=1)
    waivers: list[Waiver] = Field(default_factory=list)

    # Environment-resolved settings, so components never re-derive "is this prod?".
    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def system_node_instance_type(self) -> str:
        return self.cluster.system_node_instance_type or CLOUD_DEFAULTS[self.cloud]["system_node_instance_type"]

    @property
    def db_instance_class(self) -> str:
        return self.tracking.db_instance_class or CLOUD_DEFAULTS[self.cloud]["db_instance_class"]

    @property
    def az_count(self) -> int:
        return self.network.az_count or (2 if self.environment == "dev" else 3)

    @property
    def nat_gateway_per_az(self) -> bool:
        value = self.network.nat_gateway_per_az
        return self.environment != "dev" if value is None else value

    @property
    def multi_az_database(self) -> bool:
        value = self.tracking.multi_az
        return self.environment != "dev" if value is None else value

    @property
    def backup_retention_days(self) -> int:
        return self.tracking.backup_retention_days or (7 if self.environment == "dev" else 14)

    @property
    def dr_network_cidr(self) -> ipaddress.IPv4Network:
        """The DR network's range: configured, or the block of the same size right after network.cidr."""
        if self.dr.network_cidr is not None:
            return self.dr.network_cidr
        primary = self.network.cidr
        return ipaddress.IPv4Network((int(primary.network_address) + primary.num_addresses, primary.prefixlen))

    @property
    def cost_tags(self) -> dict[str, str]:
        """Cost-allocation tags every taggable resource carries (user tags cannot override them)."""
        return {**self.tags, "environment": self.environment, "owner": self.owner, "managed-by": "pulumi"}
