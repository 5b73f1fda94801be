"""Model serving for a stack: ``mlops:serving`` turned into the ``ModelServing`` component.

Shared by the three stack builders (each passes its cloud's identity factory from components/serving/<cloud>.py
and where the models are), so the builders stay one call long. None when serving is off.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Sequence

import pulumi

from components.k8s import SERVING_NAMESPACE, TRACKING_URL
from components.pipelines import MLFLOW_USER_SECRET
from components.k8s.platform import PlatformWorkloads
from components.serving import (CanaryObjectives, ModelStorage, RolloutArgs, ServingArgs)
from components.features import OFFLINE_PREFIX
from components.serving.component import ModelServing, ModelServingArgs, ServingIdentity
from components.serving.request_log import RequestLogArgs
from components.serving.network import PROMETHEUS_PORT
from stacks.config import PlatformConfig
from stacks.config_serving import request_log_on

# kube-prometheus-stack's Prometheus Service (fullnameOverride "kps", components/k8s/monitoring.py).
PROMETHEUS_URL = f"http://kps-prometheus.monitoring.svc.cluster.local:{PROMETHEUS_PORT}"
# The Secret with the MLflow user the pipeline steps log in with (docs/pipelines.md, "What remains" 1).


def serving_args(cfg: PlatformConfig, storage: ModelStorage, private_cidrs: Sequence[Any]) -> ServingArgs:
    s = cfg.serving
    assert s.runtime_image is not None  # required when enabled (config_serving.py); storageUri is optional
    c = s.canary
    return ServingArgs(
        runtime_image=s.runtime_image, inference_service=s.service_name, model_name=s.model_name,
        storage_uri=s.storage_uri, model_version=s.model_version, storage=storage,
        min_replicas=s.min_replicas, max_replicas=s.max_replicas,
        canary=CanaryObjectives(c.traffic_percent, c.max_error_ratio, c.max_p95_seconds, c.min_requests,
                                c.analysis_seconds),
        private_network_cidrs=tuple(private_cidrs))


def canary_rollout_on(cfg: PlatformConfig) -> bool:
    """Serving and the retraining pipeline both on: the rollout template is installed (here) and the
    retraining DAG ends in it (stacks/pipelines.py); one predicate so the two never disagree."""
    return cfg.serving.enabled and cfg.pipelines.enabled and bool(cfg.pipelines.image)


def request_log_key_prefix(cfg: PlatformConfig) -> str:
    """The log's prefix inside the features bucket/container: recentPath under the offline store."""
    return f"{OFFLINE_PREFIX}/{cfg.pipelines.drift.recent_path}"


def request_log_args(cfg: PlatformConfig, offline_store_path: pulumi.Input[str],
                     extra_env: Optional[dict] = None) -> Optional[RequestLogArgs]:
    """The sink's arguments when ``request_log_on`` (config_serving.py checked recentPath is a relative prefix)."""
    if not request_log_on(cfg):
        return None
    log = cfg.serving.request_log
    assert cfg.pipelines.image is not None and cfg.pipelines.entity is not None
    return RequestLogArgs(image=cfg.pipelines.image, entity=cfg.pipelines.entity,
                          output=pulumi.Output.format("{0}/{1}", offline_store_path, cfg.pipelines.drift.recent_path),
                          flush_rows=log.flush_rows, flush_seconds=log.flush_seconds, max_pending=log.max_pending,
                          replicas=log.replicas, extra_env=dict(extra_env or {}))


def stack_serving(cfg: PlatformConfig, workloads: PlatformWorkloads, storage: ModelStorage,
                  identity: Callable[[pulumi.Resource], ServingIdentity], private_cidrs: Sequence[Any],
                  artifacts_destination: pulumi.Input[str], opts: pulumi.ResourceOptions,
                  rollout_depends_on: Sequence[pulumi.Resource] = (),
                  request_log: Optional[RequestLogArgs] = None,
                  request_log_identity: Optional[Callable[[pulumi.Resource], ServingIdentity]] = None,
                  ) -> Optional[ModelServing]:
    """``request_log``/``request_log_identity``: from ``request_log_args`` and the cloud's
    ``request_log_identity`` (components/serving/<cloud>.py); None when the log is off."""
    if not cfg.serving.enabled:
        return None
    rollout = None
    if canary_rollout_on(cfg):
        rollout = RolloutArgs(image=cfg.pipelines.image, mlflow_url=TRACKING_URL,
                              mlflow_credentials_secret=MLFLOW_USER_SECRET, prometheus_url=PROMETHEUS_URL)
    return ModelServing("serving", ModelServingArgs(
        serving=dataclasses.replace(serving_args(cfg, storage, private_cidrs), request_log=request_log),
        identity=identity, rollout=rollout, request_log_identity=request_log_identity if request_log else None,
        artifacts_destination=artifacts_destination,
        depends_on=[workloads.baseline.namespaces[SERVING_NAMESPACE], workloads.monitoring.release],
        rollout_depends_on=rollout_depends_on), opts=opts)
