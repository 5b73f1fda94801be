"""``mlops:pipelines.drift``: the hourly drift job and the drift -> retraining trigger (issue 11,
docs/pipelines.md "Drift monitoring"). Off by default; needs ``mlops:pipelines.enabled`` (it runs in the
pipeline's namespace, with its image, MLflow login and identity). Part of ``PipelinesConfig``."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import Field, field_validator

from stacks.config_base import ConfigModel


class DriftConfig(ConfigModel):
    enabled: bool = False
    # When the drift CronWorkflow runs (the pipeline's timezone); hourly by default.
    schedule: str = "0 * * * *"
    # Recent serving inputs: a parquet file or a prefix of parquet files with the model's feature columns,
    # the entity key and event_timestamp (what the serving request log writes; docs/pipelines.md). A
    # relative name is under the stack's offline store (as featuresPath), which the steps' identity can read.
    recent_path: Optional[str] = Field(default=None, pattern=r"^\S+$")
    # Kolmogorov-Smirnov p-value under which a feature counts as drifted, and the share of drifted features
    # at which the model counts as drifted (Evidently's defaults for small numeric data).
    p_value: float = Field(default=0.05, gt=0, lt=1)
    share: float = Field(default=0.5, gt=0, le=1)
    # A drift alert starts the retraining WorkflowTemplate (Argo Events; at most one run an hour).
    retrain: bool = True

    @field_validator("recent_path")
    @classmethod
    def _recent(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and "://" in value and not value.startswith(("s3://", "gs://", "abfs://")):
            raise ValueError("must be s3://, gs://, abfs://, an absolute path, or a name under the offline store")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from stacks.config_pipelines import PipelinesConfig

        return PipelinesConfig._cron(value)  # the retraining schedule's rule and message


def drift_problems(cfg: Any) -> list[tuple[tuple[Any, ...], Any, str]]:
    drift = cfg.pipelines.drift
    if not drift.enabled:
        return []
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    if not cfg.pipelines.enabled:
        problems.append((("pipelines", "drift", "enabled"), True,
                         "needs pipelines.enabled: true (the drift job runs with the pipeline's image, identity and MLflow login)"))
    if drift.recent_path is None:
        problems.append((("pipelines", "drift", "recentPath"), None,
                         "is required when pipelines.drift.enabled is true (the parquet file or prefix of recent serving inputs)"))
    return problems


def drift_args(drift: DriftConfig, recent_path: Any = None):
    """The component arguments (components/pipelines/drift.py) for an enabled, validated config;
    ``recent_path``: ``recentPath`` resolved to a full URI (stacks/pipelines.py), default as configured."""
    from components.pipelines.drift import DriftArgs

    return DriftArgs(recent_path=recent_path or drift.recent_path or "", schedule=drift.schedule, p_value=drift.p_value,
                     share=drift.share, retrain=drift.retrain)
