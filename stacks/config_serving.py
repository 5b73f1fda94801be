"""``mlops:serving``: model serving with canary rollouts (issue 11): KServe in Knative mode serving the MLflow
model through MLServer. Off by default; see docs/serving.md. Part of the model in ``stacks/config.py``.

Serving installs before the first model exists: without ``storageUri`` the InferenceService is created by
the canary rollout that the retraining pipeline runs for its first promoted version (so the pipeline must be
on); with it, the program creates the InferenceService serving that version at once."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, field_validator

from stacks.config_base import PINNED_IMAGE, ConfigModel, refuse_latest


class CanaryConfig(ConfigModel):
    # Share of requests the new version gets while it is judged.
    traffic_percent: int = Field(default=10, ge=1, le=99)
    # Objectives over the analysis: 5xx share of inference requests, and 95th-percentile latency.
    max_error_ratio: float = Field(default=0.01, ge=0, le=1)
    max_p95_seconds: float = Field(default=0.5, gt=0, le=60)
    # Fewer requests than this in the analysis window: not proven, rolled back.
    min_requests: int = Field(default=100, ge=1, le=1_000_000)
    analysis_seconds: int = Field(default=600, ge=60, le=86_400)


class RequestLogConfig(ConfigModel):
    # On (with serving and mlops:pipelines.drift): the predictor's logger feeds the request log sink, which
    # writes the drift job's recentPath (docs/serving.md "Request log"). Off: recentPath is yours to fill.
    enabled: bool = True
    # A part is written when this many rows are held, or when the oldest held row is this old.
    flush_rows: int = Field(default=5000, ge=100, le=100_000)
    flush_seconds: int = Field(default=300, ge=10, le=3600)
    # Unpaired request/response events held at most (older ones are written without a prediction).
    max_pending: int = Field(default=2000, ge=100, le=100_000)
    replicas: int = Field(default=1, ge=1, le=10)


class ServingConfig(ConfigModel):
    enabled: bool = False
    # MLServer + mlserver-mlflow image built from images/mlserver and pushed to the platform's registry.
    runtime_image: Optional[str] = Field(default=None, pattern=PINNED_IMAGE)
    # InferenceService name: a DNS label short enough for Knative's revision names (<name>-predictor-00001).
    service_name: str = Field(default="default-model", pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
    # The MLflow registered model it serves.
    model_name: str = Field(default="default-model", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    # Optional: a first version's files in the artifact store and its number, for an InferenceService at once.
    # Unset (the usual case): the canary rollout creates it with the first promoted version.
    storage_uri: Optional[str] = Field(default=None, pattern=r"^(s3://|gs://|https://)\S+$")
    model_version: str = Field(default="1", pattern=r"^[1-9][0-9]{0,9}$")
    # 0 scales an idle model to zero (Knative); the first request then waits for a pod to start.
    min_replicas: int = Field(default=0, ge=0, le=100)
    max_replicas: int = Field(default=3, ge=1, le=100)
    canary: CanaryConfig = CanaryConfig()
    request_log: RequestLogConfig = RequestLogConfig()

    _pinned = field_validator("runtime_image")(staticmethod(refuse_latest))


STORAGE = {"aws": ("s3://", "an s3://<artifact bucket>/... URI"),
           "gcp": ("gs://", "a gs://<artifact bucket>/... URI"),
           "azure": ("https://", "an https://<account>.blob.core.windows.net/<container>/... URI")}


def serving_problems(cfg: Any, cloud_known: bool) -> list[tuple[tuple[Any, ...], Any, str]]:
    serving = cfg.serving
    if not serving.enabled:
        return []
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    if serving.runtime_image is None:
        problems.append((("serving", "runtimeImage"), None, "is required when serving.enabled is true "
                         "(the MLServer image built from images/mlserver, pinned)"))
    uri = serving.storage_uri
    pipelines = cfg.pipelines
    if uri is None and not (pipelines.enabled and pipelines.image):
        # Without the retraining pipeline there is no canary rollout to create the InferenceService.
        problems.append((("serving", "storageUri"), None, "is required when serving.enabled is true and "
                         "mlops:pipelines is off (or has no image): only the pipeline's canary rollout creates the "
                         "InferenceService from a promoted version; set storageUri to a version's artifact location "
                         "or turn mlops:pipelines on"))
    if cloud_known and uri is not None:
        prefix, what = STORAGE[cfg.cloud]
        if not uri.startswith(prefix) or (cfg.cloud == "azure" and ".blob.core.windows.net/" not in uri):
            problems.append((("serving", "storageUri"), uri, f"must be {what} on {cfg.cloud} (the MLflow artifact store)"))
    recent = cfg.pipelines.drift.recent_path
    if request_log_on(cfg) and recent is not None:
        if "://" in recent or recent.startswith("/") or not recent.endswith("/") or ".." in recent.split("/"):
            problems.append((("pipelines", "drift", "recentPath"), recent,
                             "must be a prefix under the offline store ending in '/' (e.g. churn/serving/recent/) while "
                             "serving.requestLog is on: the request log writes its parts there with an identity "
                             "granted on that prefix of the offline store only"))
    if serving.min_replicas > serving.max_replicas:
        problems.append((("serving", "minReplicas"), serving.min_replicas,
                         f"must not exceed serving.maxReplicas ({serving.max_replicas})"))
    return problems


def request_log_on(cfg: Any) -> bool:
    """The request log is installed: serving on, its log on, and a drift job whose recentPath it fills."""
    return bool(cfg.serving.enabled and cfg.serving.request_log.enabled and cfg.pipelines.enabled
                and cfg.pipelines.drift.enabled and cfg.pipelines.image)
