"""The retraining pipeline's contract (issue 11): what every cloud gives Argo Workflows and what the
pipeline runs. Cloud-neutral; the renderers are in ``workflows.py`` (WorkflowTemplate + CronWorkflow),
the Argo install in ``argo.py``, the in-cluster component in ``component.py``. Each cloud's file
(``aws.py``/``azure.py``/``gcp.py``) gives it the artifact store and the step identity (workload identity
that may read the features and read/write the ``argo/`` artifacts, nothing else) and builds it; the stack
builders call that when ``mlops:pipelines.enabled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

from components.k8s import NamespaceQuota
from components.k8s.baseline import ContainerLimits

NAMESPACE = "pipelines"
STEP_SERVICE_ACCOUNT = "pipeline-steps"
TEMPLATE_NAME = "retraining"
# Where the steps write their output parameters (an emptyDir: the root file system is read-only).
OUTPUTS_DIR = "/tmp/outputs"
# The steps' MLflow user: Secret (username, password) in the pipelines namespace, a copy in mlops for
# MLflow's migrate step, which grants the user EDIT on the pipeline's registered model only.
MLFLOW_USER_SECRET = "mlflow-pipelines"
MLFLOW_USERNAME = "svc-pipelines"
# Where Argo keeps step logs and artifacts in the platform's artifact store (the step identity's only
# write access). Azure: a container of this name in the artifacts account.
ARTIFACT_PREFIX = "argo"


def namespace_quota(environment: str) -> NamespaceQuota:
    """One retraining at a time (CronWorkflow Forbid): four steps at most 2 CPU / 4Gi each, Argo's
    executor sidecars, controller and server, with room for a manual run beside the scheduled one."""
    scale = 1 if environment == "dev" else 2
    return NamespaceQuota(f"{4 * scale}", f"{8 * scale}Gi", f"{12 * scale}", f"{24 * scale}Gi", pods=20 * scale)


# Defaults for a container that declares nothing (every rendered one does), and the largest admitted.
CONTAINER_LIMITS = ContainerLimits("500m", "512Mi", "100m", "128Mi", "4", "8Gi")


@dataclass(frozen=True)
class StepBudget:
    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"


@dataclass(frozen=True)
class FeastSource:
    """Where the ``features`` step finds the features: the platform's Feast registry and one feature view.
    With it the DAG starts with ``features`` (Feast's point-in-time join, in the Feast image), and
    ``features_path`` names the entity data frame (entity key, event_timestamp, label)."""

    image: str                  # the platform's Feast image (images/feast-feature-server), pinned
    project: str
    registry: object            # registry path (str or Output), as the feature server's config has it
    provider: str               # aws | gcp | azure
    feature_view: str
    registry_store_type: str = ""  # Azure: AzureRegistryStore


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
    # Step pod labels some clouds need for workload identity (Azure: azure.workload.identity/use=true).
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    # Non-secret environment the object-store clients need (AWS_REGION); credentials are refused.
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Features through Feast's API (a features step before train); None: train reads features_path itself.
    feast: Optional[FeastSource] = None
    # DAG tasks run after promote, from WorkflowTemplates other capabilities install in this namespace (the
    # serving canary rollout: components/serving/rollout.py retraining_canary_task).
    after_promote: Sequence[Mapping[str, Any]] = ()
