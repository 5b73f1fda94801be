"""The retraining pipeline's contract (issue 11): what every cloud gives Argo Workflows and what the
pipeline runs. Cloud-neutral; the renderers are in ``workflows.py`` (WorkflowTemplate + CronWorkflow),
the Argo install in ``argo.py``. The per-cloud artifact repository (object store through workload
identity) will be ``aws.py``/``azure.py``/``gcp.py`` here (docs/pipelines.md, "What remains").
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACE = "pipelines"
STEP_SERVICE_ACCOUNT = "pipeline-steps"
TEMPLATE_NAME = "retraining"
# Where the steps write their output parameters (an emptyDir: the root file system is read-only).
OUTPUTS_DIR = "/tmp/outputs"


@dataclass(frozen=True)
class StepBudget:
    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"


@dataclass(frozen=True)
class RetrainingArgs:
    """What the retraining WorkflowTemplate and its CronWorkflow need (from ``mlops:pipelines`` and the
    tracking server's outputs)."""

    image: str                  # the step image (pipelines/Dockerfile), pinned
    schedule: str               # five-field cron
    timezone: str
    model_name: str
    features_path: str          # the parquet the feature view's FileSource points at
    label: str
    entity: str
    metric: str
    min_improvement: float
    mlflow_url: str             # the tracking server's in-cluster URL
    mlflow_credentials_secret: str  # Secret with keys username/password the steps log in with
    namespace: str = NAMESPACE
    budget: StepBudget = field(default_factory=StepBudget)
