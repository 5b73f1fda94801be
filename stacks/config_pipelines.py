"""``mlops:pipelines``: the retraining pipeline (issue 11): Argo Workflows on the cluster running the step
package ``pipelines/`` (train, register, evaluate, promote) on a schedule. Off by default; see
docs/pipelines.md. Part of the model in ``stacks/config.py``."""

from __future__ import annotations

import re
from typing import Any, Literal, Optional

from pydantic import Field, field_validator

from stacks.config_drift import DriftConfig
from stacks.config_base import PINNED_IMAGE, ConfigModel, refuse_latest

# Five cron fields (minute hour day-of-month month day-of-week), as Argo's CronWorkflow parses them.
_CRON_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
CRON = re.compile(rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")


class PipelinesConfig(ConfigModel):
    enabled: bool = False
    # When the retraining CronWorkflow runs (UTC unless timezone says otherwise); weekly by default.
    schedule: str = "0 3 * * 1"
    timezone: str = Field(default="UTC", pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")
    # The step image built from pipelines/Dockerfile and pushed to the platform's registry (pinned).
    image: Optional[str] = Field(default=None, pattern=PINNED_IMAGE)
    # The registered model the loop trains and promotes (MLflow registered-model name).
    model_name: str = Field(default="default-model", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    # The offline-store file the feature view's FileSource points at: a name under the stack's offline
    # store (e.g. churn/labels.parquet, resolved against featureOfflineStorePath, whose bucket name the
    # cloud chooses), or a full s3://, gs://, abfs:// or absolute path.
    features_path: Optional[str] = Field(
        default=None, pattern=r"^((s3://|gs://|abfs://|/)\S+|[A-Za-z0-9_][A-Za-z0-9_.=-]*(/[A-Za-z0-9_][A-Za-z0-9_.=-]*)*)\.parquet$")
    # The Feast feature view the features step joins onto featuresPath (then the entity data frame: entity
    # key, event_timestamp, label) with Feast's get_historical_features; unset: train reads featuresPath.
    feature_view: Optional[str] = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    label: Optional[str] = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    entity: Optional[str] = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    metric: Literal["roc_auc", "accuracy", "log_loss"] = "roc_auc"
    min_improvement: float = Field(default=0.0, ge=0, le=1)
    # The drift job and the drift -> retraining trigger (stacks/config_drift.py).
    drift: DriftConfig = DriftConfig()

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not CRON.fullmatch(value):
            raise ValueError("must be a five-field cron expression (minute hour day-of-month month day-of-week), "
                             "e.g. '0 3 * * 1'")
        return value

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: Optional[str]) -> Optional[str]:
        return refuse_latest(value)


def pipelines_problems(cfg: Any) -> list[tuple[tuple[Any, ...], Any, str]]:
    """An enabled pipeline needs its image and where its features are."""
    pipelines = cfg.pipelines
    if not pipelines.enabled:
        return []
    return [(("pipelines", key), None, f"is required when pipelines.enabled is true ({why})")
            for key, why in (("image", "the step image built from pipelines/Dockerfile, pinned"),
                             ("featuresPath", "the parquet file the feature view's FileSource points at"),
                             ("label", "the label column in that file"),
                             ("entity", "the entity key column in that file"))
            if getattr(pipelines, {"featuresPath": "features_path"}.get(key, key)) is None]
