"""What the three stack builders share for ``mlops:pipelines``: the retraining arguments from the config and
the tracking server's side of the pipeline (its MLflow user, the namespace allowed to call it)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import pulumi

from components.k8s import PLATFORM_NAMESPACE, SERVING_NAMESPACE, TRACKING_URL, TRAINING_NAMESPACE, MonitoringStackArgs
from components.pipelines import MLFLOW_USER_SECRET, NAMESPACE, FeastSource, RetrainingArgs
from components.pipelines.drift_component import DriftMonitoring, DriftMonitoringArgs, monitoring_inputs
from components.serving.rollout import retraining_canary_task
from stacks.config import PlatformConfig
from stacks.serving import canary_rollout_on
from stacks.config_drift import drift_args


def under_offline_store(path: str, offline_store_path: pulumi.Input[str]) -> pulumi.Input[str]:
    """A config path as a full URI: a relative name is under the stack's offline store."""
    if path.startswith(("s3://", "gs://", "abfs://", "/")):
        return path
    return pulumi.Output.format("{0}/{1}", offline_store_path, path)


def features_path(cfg: PlatformConfig, offline_store_path: pulumi.Input[str]) -> pulumi.Input[str]:
    """``featuresPath`` as a full URI: a relative name is a file under the stack's offline store."""
    return under_offline_store(cfg.pipelines.features_path, offline_store_path)


def retraining_args(cfg: PlatformConfig, features: Any) -> RetrainingArgs:
    """From ``mlops:pipelines`` and the stack's FeatureStore (offline store, registry, project)."""
    p = cfg.pipelines
    feast = None
    if p.feature_view:
        feast = FeastSource(image=cfg.features.feast_image, project=features.feast_project,
                            registry=features.registry_path, provider=cfg.cloud, feature_view=p.feature_view,
                            # Feast infers S3/GCS registry stores from the path; Azure Blob's it must be told.
                            registry_store_type="AzureRegistryStore" if cfg.cloud == "azure" else "")
    return RetrainingArgs(image=p.image, schedule=p.schedule, timezone=p.timezone, model_name=p.model_name,
                          features_path=features_path(cfg, features.offline_store_path), label=p.label,
                          entity=p.entity, metric=p.metric, min_improvement=p.min_improvement, mlflow_url=TRACKING_URL,
                          mlflow_credentials_secret=MLFLOW_USER_SECRET, feast=feast,
                          # With serving on, a promoted version goes out as a canary (the template stacks/serving.py installs).
                          after_promote=(retraining_canary_task(),) if canary_rollout_on(cfg) else ())


def mlflow_pipeline_args(pipeline: Optional[Any], training_user: Optional[Any] = None) -> dict[str, Any]:
    """MlflowServerArgs keys for a pipeline: its service user, and its namespace among the tracking server's
    callers; plus the distributed training jobs' user (``stacks.training.training_mlflow_user``) if any."""
    users = [user for user in (pipeline.mlflow_user if pipeline else None, training_user) if user is not None]
    args: dict[str, Any] = {"service_users": users} if users else {}
    if pipeline is not None:
        args["client_namespaces"] = (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, SERVING_NAMESPACE, NAMESPACE)
    return args


def drift_monitoring(cfg: PlatformConfig, pipeline: Optional[Any], features: Any,
                     opts: pulumi.ResourceOptions) -> Optional[DriftMonitoring]:
    """``mlops:pipelines:DriftMonitoring`` when ``mlops:pipelines.drift.enabled`` (``opts``: the cluster's
    provider), in the pipeline's namespace with the steps' own settings, after the pipeline (its namespace,
    default deny and Argo's CRDs). Returns the component for ``with_drift`` (None: no drift job)."""
    if pipeline is None or not cfg.pipelines.drift.enabled:
        return None
    recent = under_offline_store(cfg.pipelines.drift.recent_path or "", features.offline_store_path)
    args = DriftMonitoringArgs(pipeline.retraining, drift_args(cfg.pipelines.drift, recent), depends_on=[pipeline])
    return DriftMonitoring("drift", args, opts=opts)


def with_drift(monitoring: MonitoringStackArgs, drift: Optional[DriftMonitoring]) -> MonitoringStackArgs:
    """The monitoring stack plus what the drift job needs from it: the Pushgateway scrape target, the
    ``retrain`` receiver with its route first (it ``continue``s, so the stack's own routes still match), and
    the file with the webhook's bearer token beside the stack's own Alertmanager files."""
    if drift is None:
        return monitoring
    targets, receivers, routes, files = monitoring_inputs(drift.args, drift.webhook_token)
    return dataclasses.replace(monitoring, scrape_targets=[*monitoring.scrape_targets, *targets],
                               alert_receivers=[*monitoring.alert_receivers, *receivers],
                               alert_routes=[*routes, *monitoring.alert_routes],
                               alertmanager_files={**monitoring.alertmanager_files, **files})
