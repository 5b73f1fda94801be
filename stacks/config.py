"""Loading a stack's configuration: every `mlops:*` key into `PlatformConfig`, every problem reported.

One model serves `pulumi up` (the real CLI passes config in PULUMI_CONFIG) and the offline preview
(which sets the same values through the SDK). A bad stack file never reaches resource registration:
`load_config` collects every problem, one line each, naming the stack file, the key path, the value
and what is allowed, and raises `ConfigError`. The models are in `config_models.py` (top level) and
the `config_*.py` modules (one key each); callers import `PlatformConfig` from here as before.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import typing
from typing import Any, Optional

from pydantic import BaseModel, ValidationError

from stacks.access_config import access_problems
from stacks.catalog import machine_type_problem
from stacks.config_delivery import delivery_problems
from stacks.config_drift import drift_problems
from stacks.config_models import FEAST_IMAGE, UPSTREAM_FEAST_IMAGES, PlatformConfig, Waiver
from stacks.config_pipelines import pipelines_problems
from stacks.config_serving import serving_problems
from stacks.config_training import training_problems
from stacks.regions import regions_for
from stacks.versions import today_utc, version_problems

__all__ = ["FEAST_IMAGE", "NAMESPACE", "ConfigError", "PlatformConfig", "Waiver", "load_config", "load_from_pulumi",
           "parse_raw_config"]

NAMESPACE = "mlops"

# Instance families with NVIDIA GPUs, per cloud; a GPU pool must use one of them.
GPU_INSTANCE_PATTERNS = {
    "aws": re.compile(r"^(g4dn|g5|g6|g6e|gr6|p3|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200)\."),
    "azure": re.compile(r"^Standard_N", re.IGNORECASE),
    "gcp": re.compile(r"^(a2|a3|a4|g2)-"),
}


# EC2 instance types whose vCPU count follows from the size name (AWS training pools need it).
AWS_SIZED_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|\d*xlarge)$")


class ConfigError(Exception):
    """Raised with every problem found in a stack's config, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


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
