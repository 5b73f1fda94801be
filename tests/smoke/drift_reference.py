"""The drift path's config as the components render it, for smoke runs of stacks that do not create
``mlops:pipelines:DriftMonitoring`` yet: ``RetrainingPipeline`` + ``DriftMonitoring`` + a ``MonitoringStack``
given ``monitoring_inputs()`` (what the stack builders are to pass), previewed under the mock engine."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import TRACKING_URL, AlertReceiver, AlertRoute, MonitoringStackArgs
from components.k8s.monitoring import MonitoringStack
from components.pipelines import RetrainingArgs
from components.pipelines.argo import ArtifactStore
from components.pipelines.component import RetrainingPipeline, RetrainingPipelineArgs
from components.pipelines.drift import DriftArgs
from components.pipelines.drift_component import DriftMonitoring, DriftMonitoringArgs, monitoring_inputs
from mlops_tools.engine.plan import build_plan
from mlops_tools.engine.preview import preview_program
from mlops_tools.smoke.drift import DRIFT_COMPONENT
from mlops_tools.smoke.plan import Plan

IMAGE = "ghcr.io/acme/mlops-pipelines:1.0.0"


def drift_plan(stack_plan: Plan, model_name: str, recent_path: str) -> tuple[Plan, str]:
    """(plan, where it came from)."""
    if stack_plan.resources(DRIFT_COMPONENT):
        return stack_plan, f"stack {stack_plan.stack}'s plan"
    pipeline = RetrainingArgs(image=IMAGE, schedule="0 3 * * 1", timezone="UTC", model_name=model_name,
                              features_path="s3://features/features.parquet", label="label", entity="customer_id",
                              metric="roc_auc", min_improvement=0.0, mlflow_url=TRACKING_URL,
                              mlflow_credentials_secret="mlflow-pipelines")
    args = DriftMonitoringArgs(pipeline, DriftArgs(recent_path=recent_path))
    targets, receivers, routes = monitoring_inputs(args)
    # A people's receiver first (the default route), as every stack has one.
    people = AlertReceiver("platform-alerts", {"sns_configs": [
        {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:mlops-alerts", "sigv4": {"region": "eu-west-1"}}]})

    def program() -> None:
        opts = pulumi.ResourceOptions(provider=k8s.Provider("cluster", kubeconfig="offline-preview-kubeconfig"))
        MonitoringStack("monitoring", MonitoringStackArgs(
            environment="dev", metrics_retention_days=15, private_network_cidrs=["10.0.0.0/16"],
            alert_receivers=[people, *receivers], alert_routes=[*routes, AlertRoute("platform-alerts", ['severity="critical"'])],
            scrape_targets=targets, gpu_metrics=False), opts=opts)
        retraining = RetrainingPipeline("pipelines", RetrainingPipelineArgs(
            pipeline, ArtifactStore("s3", "artifacts", region="eu-west-1")), opts=opts)
        DriftMonitoring("drift", DriftMonitoringArgs(pipeline, args.drift, depends_on=[retraining]), opts=opts)

    result = preview_program(program, project="mlops-platform", stack=f"{stack_plan.stack}-drift")
    return (Plan(build_plan(result, stack_plan.cloud), source="reference rendering"),
            "the components' own rendering (the stacks do not create DriftMonitoring yet)")
