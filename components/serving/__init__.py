"""Model serving with canary rollouts (issue 11, capability 4): the cloud-neutral contract.

KServe in Knative mode (the mode formerly called Serverless) serves the MLflow model through MLServer
(``modelFormat: mlflow``, open inference protocol v2) in the baseline's ``serving`` namespace. Why that mode:
only Knative mode splits traffic between the last good revision and a new one with
``canaryTrafficPercent`` (promote: 100; roll back: 0), and Knative scales an idle predictor to zero. KServe's
Standard mode (formerly RawDeployment) runs plain Deployments: no scale to zero without KEDA, and its new
``spec.canary`` list needs a Gateway API implementation the platform does not install (docs/serving.md).

What every cloud gives (``aws.py``/``azure.py``/``gcp.py``): an identity for ServiceAccount ``model-server``
that may *read* the MLflow artifact store (the storage initializer downloads the model with it; no key), the
ServiceAccount annotations and pod labels that bind it, and the storage settings KServe reads from them.
The in-cluster half is ``component.ModelServing`` (``mlops:serving:ModelServing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Mapping, Optional

import pulumi

from components.k8s import SERVING_NAMESPACE, ResourceBudget

if TYPE_CHECKING:
    from components.serving.request_log import RequestLogArgs

NAMESPACE = SERVING_NAMESPACE
SERVICE_ACCOUNT = "model-server"
RUNTIME_NAME = "mlflow-mlserver"
# MLServer's ports as KServe's own MLServer runtime sets them (MLSERVER_HTTP_PORT/GRPC_PORT) and its default
# metrics port (mlserver.settings.Settings.metrics_port).
HTTP_PORT = 8080
GRPC_PORT = 9000
METRICS_PORT = 8082
# The predictor pods carry the MLflow version they serve in this label; the PodMonitor copies it to the
# ``model_version`` label of every scraped series, which is how the canary analysis tells versions apart.
VERSION_LABEL = "mlops.dev/model-version"
VERSION_METRIC_LABEL = "model_version"
# MLServer (starlette_exporter, prefix ``rest_server``) metric names the canary analysis reads.
REQUESTS_METRIC = "rest_server_requests_total"
DURATION_BUCKETS_METRIC = "rest_server_request_duration_seconds_bucket"


@dataclass(frozen=True)
class CanaryObjectives:
    """When a canary is promoted: enough requests seen, error ratio and p95 latency within bounds."""

    traffic_percent: int = 10
    max_error_ratio: float = 0.01
    max_p95_seconds: float = 0.5
    min_requests: int = 100
    analysis_seconds: int = 600


@dataclass(frozen=True)
class ModelStorage:
    """How KServe's storage initializer reaches the MLflow artifact store with the pod's workload identity.

    ``kind`` s3: boto3's web-identity credentials (IRSA); ``region`` sets the endpoint. gcs: Application
    Default Credentials (GKE Workload Identity). azure: ``DefaultAzureCredential`` -> workload identity
    (URIs ``https://<account>.blob.core.windows.net/<container>/...``)."""

    kind: Literal["s3", "gcs", "azure"]
    region: str = ""

    def service_account_annotations(self) -> dict[str, str]:
        """KServe's documented S3 annotations on the ServiceAccount (read by the storage initializer)."""
        if self.kind != "s3":
            return {}
        return {"serving.kserve.io/s3-endpoint": f"s3.{self.region}.amazonaws.com", "serving.kserve.io/s3-usehttps": "1",
                "serving.kserve.io/s3-region": self.region, "serving.kserve.io/s3-useanoncredential": "false"}


# The model server's requests and limits (fits the serving namespace's LimitRange maximum).
SERVER_BUDGET = ResourceBudget("500m", "1Gi", "2", "4Gi")


@dataclass(frozen=True)
class ServingArgs:
    """What the serving install needs (``mlops:serving`` and the platform's outputs)."""

    runtime_image: str               # MLServer + mlserver-mlflow image in the platform registry (images/mlserver)
    inference_service: str           # the InferenceService name (DNS label)
    model_name: str                  # the MLflow registered model it serves
    # The first version's artifact URI; None: no InferenceService until the canary rollout creates it with the
    # first promoted version (later versions: the canary rollout too).
    storage_uri: Optional[str]
    model_version: str               # that version's number (pod label VERSION_LABEL)
    storage: ModelStorage
    min_replicas: int = 0
    max_replicas: int = 3
    canary: CanaryObjectives = field(default_factory=CanaryObjectives)
    budget: ResourceBudget = SERVER_BUDGET
    namespace: str = NAMESPACE
    # Workload identity: ServiceAccount annotations (role ARN / client id / GSA) and pod labels (Azure).
    identity_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    identity_pod_labels: Mapping[str, str] = field(default_factory=dict)
    # Private address ranges of the cluster network (webhook callers, internal clients).
    private_network_cidrs: tuple = ()
    # The request log (request_log.py): None = no predictor logger, no sink.
    request_log: Optional["RequestLogArgs"] = None


@dataclass(frozen=True)
class RolloutArgs:
    """The canary rollout WorkflowTemplate (in the pipelines namespace, run by the step image)."""

    image: str
    mlflow_url: str
    mlflow_credentials_secret: str
    prometheus_url: str
    pipelines_namespace: str = "pipelines"
    step_service_account: str = "pipeline-steps"
    storage_kind: Optional[str] = None
