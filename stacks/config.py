"""The typed stack configuration: every `mlops:*` key, its defaults and its rules.

One model serves `pulumi up` (the real CLI passes config in PULUMI_CONFIG) and the offline preview
(which sets the same values through the SDK). A bad stack file never reaches resource registration:
`load_config` collects every problem, one line each, naming the stack file, the key path, the value
and what is allowed, and raises `ConfigError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import json
import re
import typing
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from stacks.access_config import AccessConfig, access_problems
from stacks.catalog import machine_type_problem
from stacks.config_delivery import AlertSmtp, AzureConfig, delivery_problems
from stacks.config_drift import drift_problems
from stacks.config_pipelines import PipelinesConfig, pipelines_problems
from stacks.config_training import TrainingConfig, training_problems
from stacks.config_serving import ServingConfig, serving_problems
from stacks.regions import regions_for
from stacks.versions import today_utc, version_problems

NAMESPACE = "mlops"

# Instance families with NVIDIA GPUs, per cloud; a GPU pool must use one of them.
GPU_INSTANCE_PATTERNS = {
    "aws": re.compile(r"^(g4dn|g5|g6|g6e|gr6|p3|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200)\."),
    "azure": re.compile(r"^Standard_N", re.IGNORECASE),
    "gcp": re.compile(r"^(a2|a3|a4|g2)-"),
}


# EC2 instance types whose vCPU count follows from the size name (AWS training pools need it).
AWS_SIZED_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge)$")


# Sizes whose names differ per cloud; the stack file may set any of them explicitly.
CLOUD_DEFAULTS = {
    "aws": {"system_node_instance_type": "m6i.large", "db_instance_class": "db.t4g.medium"},
    "azure": {"system_node_instance_type": "Standard_D4s_v5", "db_instance_class": "Standard_D2ds_v5"},
    "gcp": {"system_node_instance_type": "e2-standard-4", "db_instance_class": "db-custom-2-7680"},
}


class ConfigError(Exception):
    """Raised with every problem found in a stack's config, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _Model(BaseModel):
    """camelCase keys as in the stack files; unknown keys are errors (they are usually typos)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
                              allow_inf_nan=False)  # 1e400 is YAML for infinity: never a real size or budget


class NetworkConfig(_Model):
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


class ClusterConfig(_Model):
    version: str = Field(default="1.35", pattern=r"^1\.\d{2}$")
    # Public API endpoint CIDRs; only dev may open the endpoint, never to the whole internet.
    public_access_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    # None = the cloud's default (CLOUD_DEFAULTS): instance type names differ per cloud.
    system_node_instance_type: Optional[str] = None
    system_node_count: int = Field(default=2, ge=1, le=10)


class TrackingConfig(_Model):
    db_instance_class: Optional[str] = None  # None = the cloud's default (CLOUD_DEFAULTS)
    db_allocated_storage_gb: int = Field(default=20, ge=20, le=16384)
    # A major version lets RDS pick its current minor (and upgrade it); every value is checked against
    # the support-window table (stacks/versions.py) on the day the config is validated.
    db_engine_version: str = Field(default="16", pattern=r"^\d+(\.\d+)?$")
    # None means "the environment's default": single-AZ in dev, multi-AZ in staging/prod.
    multi_az: Optional[bool] = None
    backup_retention_days: Optional[int] = Field(default=None, ge=1, le=35)
    mlflow_image: str = Field(default="ghcr.io/mlflow/mlflow:v3.10.1-full", pattern=r"^[^:@\s]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")

    @field_validator("mlflow_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if value.endswith(":latest"):
            raise ValueError("must pin a version or digest, not :latest")
        return value


FEAST_IMAGE = "ghcr.io/mlops-platform/feast-feature-server:0.50.0-r1"
# Upstream Feast images built from feast[minimal]: no azure-storage-blob/azure-identity (Feast's own
# feature_servers/multicloud/requirements.txt at each tag).
UPSTREAM_FEAST_IMAGES = ("feastdev/feature-server", "docker.io/feastdev/feature-server", "quay.io/feastdev/feature-server")


class FeaturesConfig(_Model):
    # The platform's own image (images/feast-feature-server, pushed by .github/workflows/feast-image.yml under
    # the repository owner): upstream feastdev/feature-server lacks the Azure registry store's packages.
    feast_image: str = Field(default=FEAST_IMAGE, pattern=r"^[^:@\s]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")
    online_store_ttl_days: Optional[int] = Field(default=None, ge=1, le=3650)
    # Feast project; the deployed project is "<project>_<environment>" so stacks sharing an account never collide.
    project: str = Field(default="mlops", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    # Feature views served online. Each gets its own platform-managed online table (CMK, PITR,
    # DR replica) named as Feast expects ("<project>.<view>"); Feast cannot create tables itself.
    online_feature_views: list[str] = Field(default_factory=lambda: ["default"], min_length=1)

    @field_validator("online_feature_views")
    @classmethod
    def _view_names(cls, value: list[str]) -> list[str]:
        for view in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", view):
                raise ValueError(f"{view!r} is not a feature view name (lowercase letters, digits, _; starts with a letter)")
        if len(set(value)) != len(value):
            raise ValueError("feature view names must be unique")
        return value


class RegistryConfig(_Model):
    # Untagged images (superseded builds, failed pushes) are deleted after this many days.
    untagged_image_expiry_days: int = Field(default=14, ge=1, le=365)
    # A SageMaker model package group for teams that deploy on SageMaker (off by default).
    sagemaker_model_package_group: bool = False


class TrainingPool(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    accelerator: Literal["none", "nvidia-gpu"] = "none"
    instance_types: list[str] = Field(min_length=1)
    min_nodes: int = Field(default=0, ge=0)
    max_nodes: int = Field(ge=1, le=1000)
    spot: bool = True


class MonitoringConfig(_Model):
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


class DrConfig(_Model):
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


class Waiver(_Model):
    policy: str = Field(min_length=1)
    resource: str = Field(min_length=1, description="resource name, or a URN pattern with * wildcards")
    reason: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    expires: dt.date


class PlatformConfig(_Model):
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


def _key_path(loc: tuple[Any, ...]) -> str:
    path = f"{NAMESPACE}:"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if index else "") + str(part)
    return path


def _value_at(raw: dict[str, Any], loc: tuple[Any, ...]) -> Any:
    value: Any = raw
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _show(value: Any) -> str:
    return "(missing)" if value is None else json.dumps(value, default=str)


def _region_hint(cloud: str, region: str, regions: frozenset[str]) -> str:
    """What is allowed, and why this value is not: another cloud's region, or a near miss."""
    others = [other for other in ("aws", "azure", "gcp") if other != cloud and region in regions_for(other)]
    if others:
        return f"must be a {cloud} region ({region} is {_CLOUD_NAMES[others[0]]} region; mlops:cloud is {cloud})"
    close = difflib.get_close_matches(region, sorted(regions), n=1, cutoff=0.75)
    if close:
        return f"must be a {cloud} region; did you mean {close[0]!r}?"
    return f"must be a {cloud} region, e.g. {', '.join(sorted(regions)[:4])}, ..."


_CLOUD_NAMES = {"aws": "an AWS", "azure": "an Azure", "gcp": "a GCP"}


def _cross_field_problems(cfg: PlatformConfig, cloud_known: bool = True,
                          today: Optional[dt.date] = None) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Rules that need more than one key; each item is (key path, value, what is allowed).

    With `cloud_known` false (the cloud key itself is bad) the checks that depend on the cloud are
    skipped, so the user still hears about every other problem in the same run.
    """
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    regions = regions_for(cfg.cloud)
    if cloud_known and cfg.region not in regions:
        problems.append((("region",), cfg.region, _region_hint(cfg.cloud, cfg.region, regions)))
    if cloud_known:
        problems.extend(version_problems(cfg, today or today_utc()))

    if cfg.dr.enabled:
        replica = cfg.dr.replica_region
        if replica is None:
            problems.append((("dr", "replicaRegion"), None, "is required when dr.enabled is true"))
        elif replica == cfg.region:
            problems.append((("dr", "replicaRegion"), replica, f"must differ from the primary region {cfg.region}"))
        elif cloud_known and replica not in regions:
            problems.append((("dr", "replicaRegion"), replica, _region_hint(cfg.cloud, replica, regions)))
    feast_repository = re.split(r"[:@]", cfg.features.feast_image, maxsplit=1)[0]
    if cloud_known and cfg.cloud == "azure" and feast_repository in UPSTREAM_FEAST_IMAGES:
        problems.append((("features", "feastImage"), cfg.features.feast_image,
                         "must hold Feast's Azure registry store packages (azure-storage-blob, azure-identity); "
                         f"{feast_repository} is built from feast[minimal] without them: use {FEAST_IMAGE}"))
    if cfg.dr.rto_minutes < cfg.dr.rpo_minutes:
        problems.append((("dr", "rtoMinutes"), cfg.dr.rto_minutes, f"must be >= rpoMinutes ({cfg.dr.rpo_minutes})"))
    if cfg.dr.enabled and cloud_known and cfg.cloud == "aws" and cfg.dr.rpo_minutes < 15:
        problems.append((("dr", "rpoMinutes"), cfg.dr.rpo_minutes,
                         "must be >= 15 on aws (S3 Replication Time Control replicates objects within 15 minutes)"))
    if cfg.dr.enabled and cfg.dr.network_cidr is None and not cfg.dr_network_cidr.is_private:
        problems.append((("dr", "networkCidr"), None,
                         f"is required: the range after network.cidr ({cfg.dr_network_cidr}) is not private"))
    if cfg.dr.network_cidr is not None and cfg.dr.network_cidr.overlaps(cfg.network.cidr):
        problems.append((("dr", "networkCidr"), str(cfg.dr.network_cidr), f"must not overlap network.cidr ({cfg.network.cidr})"))

    if cfg.is_prod:
        if not cfg.dr.enabled:
            problems.append((("dr", "enabled"), cfg.dr.enabled, "must be true in prod (prod keeps replicas in a second region)"))
        if not cfg.deletion_protection:
            problems.append((("deletionProtection",), cfg.deletion_protection, "must be true in prod"))
        if cfg.tracking.multi_az is False:
            problems.append((("tracking", "multiAz"), False, "must be true in prod (the tracking database is highly available)"))
        if cfg.tracking.backup_retention_days is not None and cfg.tracking.backup_retention_days < 14:
            problems.append((("tracking", "backupRetentionDays"), cfg.tracking.backup_retention_days,
                             "must be >= 14 in prod (two weeks of point-in-time recovery)"))
        if cfg.network.az_count is not None and cfg.network.az_count < 3:
            problems.append((("network", "azCount"), cfg.network.az_count, "must be >= 3 in prod"))
        if cfg.network.nat_gateway_per_az is False:
            problems.append((("network", "natGatewayPerAz"), False, "must be true in prod (no single NAT point of failure)"))

    for index, cidr in enumerate(cfg.cluster.public_access_cidrs):
        loc = ("cluster", "publicAccessCidrs", index)
        if cfg.environment != "dev":
            problems.append((loc, str(cidr), "public API access is allowed in dev only; remove it (the endpoint is private)"))
        elif cidr.prefixlen < 8:
            problems.append((loc, str(cidr), "must be a specific range (/8 or narrower), never the whole internet"))

    system_type = cfg.cluster.system_node_instance_type
    system_type_problem = machine_type_problem(cfg.cloud, system_type) if cloud_known and system_type else None
    if system_type_problem:
        problems.append((("cluster", "systemNodeInstanceType"), system_type, system_type_problem))

    seen: dict[str, int] = {}
    gpu_pattern = GPU_INSTANCE_PATTERNS[cfg.cloud]
    for index, pool in enumerate(cfg.training_pools):
        if pool.name in seen:
            problems.append((("trainingPools", index, "name"), pool.name, f"must be unique (also used by trainingPools[{seen[pool.name]}])"))
        seen.setdefault(pool.name, index)
        if pool.min_nodes > pool.max_nodes:
            problems.append((("trainingPools", index, "maxNodes"), pool.max_nodes, f"must be >= minNodes ({pool.min_nodes})"))
        if pool.spot and len(pool.instance_types) < 2:
            problems.append((("trainingPools", index, "instanceTypes"), pool.instance_types,
                             "a spot pool needs at least 2 instance types, so an interruption in one spot market does not stop training"))
        for type_index, instance_type in enumerate(pool.instance_types if cloud_known else []):
            unknown = machine_type_problem(cfg.cloud, instance_type)
            if unknown:
                problems.append((("trainingPools", index, "instanceTypes", type_index), instance_type, unknown))
                continue
            is_gpu = bool(gpu_pattern.match(instance_type))
            if pool.accelerator == "nvidia-gpu" and not is_gpu:
                problems.append((("trainingPools", index, "instanceTypes", type_index), instance_type,
                                 f"must be an NVIDIA GPU instance type on {cfg.cloud} (accelerator is nvidia-gpu)"))
            if pool.accelerator == "none" and is_gpu:
                problems.append((("trainingPools", index, "instanceTypes", type_index), instance_type,
                                 "is a GPU instance type; set accelerator: nvidia-gpu for this pool"))
            if cfg.cloud == "aws" and not AWS_SIZED_INSTANCE_TYPE.match(instance_type):
                problems.append((("trainingPools", index, "instanceTypes", type_index), instance_type,
                                 "must be <family>.<size> with a virtualised size (e.g. m6i.2xlarge); metal and unknown "
                                 "sizes have no fixed vCPU count to derive the pool's Karpenter cpu limit from"))
        if cloud_known and cfg.cloud == "aws" and 0 < pool.min_nodes <= pool.max_nodes:  # an inverted range is reported above
            problems.append((("trainingPools", index, "minNodes"), pool.min_nodes,
                             "must be 0 on aws: Karpenter pools scale from zero, and its fixed-size (static capacity) "
                             "NodePools are alpha and cannot also scale; keep always-on capacity in the system node group"))

    problems += access_problems(cfg.access, cfg.cloud, cloud_known, cfg.access_client_secret is not None)
    problems.extend(delivery_problems(cfg, cloud_known))
    problems.extend(pipelines_problems(cfg))
    problems.extend(training_problems(cfg))
    problems.extend(serving_problems(cfg, cloud_known))
    problems.extend(drift_problems(cfg))

    waiver_keys: dict[tuple[str, str], int] = {}
    for index, waiver in enumerate(cfg.waivers):
        key = (waiver.policy, waiver.resource)
        if key in waiver_keys:
            problems.append((("waivers", index), f"{waiver.policy} / {waiver.resource}", f"duplicates waivers[{waiver_keys[key]}]"))
        waiver_keys.setdefault(key, index)
    return problems


def parse_raw_config(config: dict[str, Any]) -> dict[str, Any]:
    """Take `mlops:*` entries from Pulumi config (scalars arrive as strings, objects as JSON)."""
    raw: dict[str, Any] = {}
    prefix = f"{NAMESPACE}:"
    for key, value in config.items():
        if not key.startswith(prefix):
            continue
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: the model reports the type error with the key's name
        raw[key[len(prefix):]] = value
    return raw


def load_config(stack: str, config: dict[str, Any], today: Optional[dt.date] = None) -> PlatformConfig:
    """Validate a stack's `mlops:*` config; raise ConfigError listing every problem."""
    stack_file = f"Pulumi.{stack}.yaml"
    raw = parse_raw_config(config)
    lines: list[str] = []
    try:
        cfg = PlatformConfig.model_validate(raw)
        cloud_known = True
    except ValidationError as exc:
        failing = {error["loc"][0] for error in exc.errors() if error["loc"]}
        for error in exc.errors():
            loc = tuple(error["loc"])
            # pydantic appends the failing union/literal member to loc for some types; keep key parts.
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = _unknown_key_message(loc)
            elif error["type"] == "missing":
                message = "is required"
            lines.append(f"{stack_file}: {_key_path(loc)} = {_show(_value_at(raw, loc))}: {message}")
        cfg, cloud_known = _partial_config(raw, failing)
        if cfg is None:
            raise ConfigError(lines) from None
    for loc, value, allowed in _cross_field_problems(cfg, cloud_known, today):
        lines.append(f"{stack_file}: {_key_path(loc)} = {_show(value)}: {allowed}")
    if lines:
        raise ConfigError(lines)
    return cfg


def _model_at(loc: tuple[Any, ...]) -> Optional[type[BaseModel]]:
    """The config model class that holds the key at `loc` (None where the path leaves the models)."""
    model: Any = PlatformConfig
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return None
        annotation = field.annotation
        for candidate in (annotation, *typing.get_args(annotation)):
            inner = typing.get_args(candidate) or (candidate,)
            found = next((c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)), None)
            if found is not None:
                model = found
                break
        else:
            return None
    return model


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    """'unknown key', with the nearest allowed key when there is one (most unknown keys are typos)."""
    model = _model_at(loc[:-1])
    allowed = sorted(f.alias or name for name, f in model.model_fields.items()) if model else []
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return "unknown key" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")


def _partial_config(raw: dict[str, Any], failing: set[Any]) -> tuple[Optional[PlatformConfig], bool]:
    """The config without its failing top-level keys, so cross-field rules can still be checked."""
    partial = {key: value for key, value in raw.items() if key not in failing}
    cloud_known = "cloud" not in failing
    if not cloud_known:
        partial["cloud"] = "aws"  # stand-in; cloud-dependent checks are skipped
    partial.setdefault("region", "")
    try:
        return PlatformConfig.model_validate(partial), cloud_known and "region" not in failing
    except ValidationError:
        return None, False


def load_from_pulumi() -> PlatformConfig:
    """The stack's config as the running Pulumi program sees it (real CLI or offline preview)."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    config = {**get_config_env(), **CONFIG.get()}
    return load_config(pulumi.get_stack(), config)
