"""Builders and lookups for the in-cluster component tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import (
    AlertReceiver,
    AlertRoute,
    ClusterBaselineArgs,
    DashboardQuery,
    FeatureServerArgs,
    GpuNodeAgentsArgs,
    MlflowServerArgs,
    MonitoringStackArgs,
    PlatformWorkloadsArgs,
    SecretKeyRef,
)
from components.k8s.platform import PlatformWorkloads
from mlops_tools.engine.preview import PreviewResult, preview_program

VPC = "10.40.0.0/16"
MLFLOW_ROLE = "arn:aws:iam::123456789012:role/mlops-prod-mlflow"
FEAST_ROLE = "arn:aws:iam::123456789012:role/mlops-prod-feast"
ALERTMANAGER_ROLE = "arn:aws:iam::123456789012:role/mlops-prod-alertmanager"
TRAINER_ROLE = "arn:aws:iam::123456789012:role/mlops-prod-trainer"
DB_SECRET = SecretKeyRef(name="mlflow-database", key="uri")
MLFLOW_IMAGE = "ghcr.io/mlflow/mlflow:v3.10.1-full"
FEAST_IMAGE = "feastdev/feature-server:0.49.0"
WORKLOAD_KINDS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DaemonSet")


def irsa(role: str) -> dict[str, str]:
    return {"eks.amazonaws.com/role-arn": role}


def mlflow_args(environment: str = "prod", **overrides: Any) -> MlflowServerArgs:
    values: dict[str, Any] = dict(
        environment=environment, image=MLFLOW_IMAGE, artifacts_destination="s3://mlops-prod-artifacts/mlflow",
        database_cidrs=[VPC], database_secret=DB_SECRET, service_account_annotations=irsa(MLFLOW_ROLE),
        extra_env={"AWS_REGION": "eu-west-1"})
    values.update(overrides)
    return MlflowServerArgs(**values)


def feast_args(environment: str = "prod", **overrides: Any) -> FeatureServerArgs:
    values: dict[str, Any] = dict(
        environment=environment, image=FEAST_IMAGE, project="mlops", registry_path="s3://mlops-prod-features/registry.db",
        provider="aws", online_store={"type": "dynamodb", "region": "eu-west-1", "table_name_template": "mlops-{project}.{table_name}"},
        service_account_annotations=irsa(FEAST_ROLE))
    values.update(overrides)
    return FeatureServerArgs(**values)


def monitoring_args(environment: str = "prod", **overrides: Any) -> MonitoringStackArgs:
    values: dict[str, Any] = dict(
        environment=environment, metrics_retention_days=30, private_network_cidrs=[VPC], storage_class_name="gp3-encrypted",
        alert_receivers=[AlertReceiver("platform-alerts", {"sns_configs": [
            {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:mlops-prod-alerts", "sigv4": {"region": "eu-west-1"}}]})],
        alert_routes=[AlertRoute("platform-alerts", ['severity="critical"'])],
        alertmanager_service_account_annotations=irsa(ALERTMANAGER_ROLE),
        interruption_queries=[DashboardQuery("Interruption messages (Karpenter)",
                                             "sum by (message_type) (increase(karpenter_interruption_received_messages_total[1h]))",
                                             "{{message_type}}")])
    values.update(overrides)
    return MonitoringStackArgs(**values)


def platform_args(environment: str, gpu: bool) -> PlatformWorkloadsArgs:
    lb = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
          "service.beta.kubernetes.io/aws-load-balancer-type": "nlb"} if environment == "prod" else None
    return PlatformWorkloadsArgs(
        baseline=ClusterBaselineArgs(environment, [VPC], max_nodes=40 if gpu else 10, max_gpu_nodes=8 if gpu else 0,
                                     training_service_account_annotations=irsa(TRAINER_ROLE)),
        mlflow=mlflow_args(environment, internal_load_balancer_annotations=lb,
                           load_balancer_source_ranges=[VPC] if lb else ()),
        feast=feast_args(environment),
        monitoring=monitoring_args(environment),
        gpu=GpuNodeAgentsArgs() if gpu else None)


def preview_components(build: Callable[[pulumi.ResourceOptions], None], stack: str = "test") -> PreviewResult:
    """Preview whatever `build` creates, bound to an explicit Kubernetes provider."""
    def program() -> None:
        provider = k8s.Provider("cluster", kubeconfig="offline-preview-kubeconfig")
        build(pulumi.ResourceOptions(provider=provider))

    return preview_program(program, project="mlops-platform", stack=stack)


def preview_platform(args: PlatformWorkloadsArgs, stack: str) -> PreviewResult:
    return preview_components(lambda opts: PlatformWorkloads("platform", args, opts=opts), stack=stack)


def named(result: PreviewResult, type_token: str, name: str, namespace: Optional[str] = None) -> dict[str, Any]:
    """The resource of `type_token` whose Kubernetes metadata.name (and namespace) match."""
    matches = [r for r in result.by_type(type_token)
               if r["inputs"]["metadata"]["name"] == name
               and (namespace is None or r["inputs"]["metadata"].get("namespace") == namespace)]
    assert len(matches) == 1, f"expected one {type_token} {namespace}/{name}, found {len(matches)}"
    return matches[0]


def pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    return resource["inputs"]["spec"]["template"]["spec"]


def containers(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(resource)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}
