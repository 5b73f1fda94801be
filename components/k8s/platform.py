"""PlatformWorkloads: every in-cluster component, built in order from one Args object.

A stack builder creates this once with its cluster's Kubernetes provider:

    PlatformWorkloads("platform", PlatformWorkloadsArgs(...),
                      opts=pulumi.ResourceOptions(provider=cluster.k8s_provider))

The baseline comes first (namespaces, quotas, priorities); the workloads depend on it. Prometheus
scrapes what the MLflow and Feast components expose.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import pulumi

from components.k8s import TRACKING_URL, PlatformWorkloadsArgs
from components.k8s.baseline import ClusterBaseline
from components.k8s.feast import FeatureServer
from components.k8s.gpu import GpuNodeAgents
from components.k8s.mlflow import MlflowServer
from components.k8s.monitoring import MonitoringStack


class PlatformWorkloads(pulumi.ComponentResource):
    """Baseline, MLflow, Feast, monitoring and (with GPU pools) the GPU node agents."""

    baseline: ClusterBaseline
    mlflow: MlflowServer
    feast: FeatureServer
    monitoring: MonitoringStack
    gpu: Optional[GpuNodeAgents]
    tracking_url: str
    feature_server_url: str

    def __init__(self, name: str, args: PlatformWorkloadsArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:PlatformWorkloads", name, None, opts)
        self.baseline = ClusterBaseline(f"{name}-baseline", args.baseline, opts=pulumi.ResourceOptions(parent=self))
        after_baseline = pulumi.ResourceOptions(parent=self, depends_on=[self.baseline])
        # Each server also waits for what it reads from other components (a component's children wait for
        # its dependencies: they register only once it has).
        self.mlflow = MlflowServer(f"{name}-mlflow", args.mlflow, opts=pulumi.ResourceOptions(
            parent=self, depends_on=[self.baseline, *args.mlflow.depends_on]))
        self.feast = FeatureServer(f"{name}-feast", args.feast, opts=pulumi.ResourceOptions(
            parent=self, depends_on=[self.baseline, *args.feast.depends_on]))
        self.gpu = GpuNodeAgents(f"{name}-gpu", args.gpu, opts=after_baseline) if args.gpu is not None else None
        monitoring_args = dataclasses.replace(
            args.monitoring,
            scrape_targets=[self.mlflow.scrape_target, self.feast.scrape_target, *args.monitoring.scrape_targets],
            gpu_metrics=args.gpu is not None and args.gpu.dcgm_exporter)
        self.monitoring = MonitoringStack(f"{name}-monitoring", monitoring_args, opts=after_baseline)
        self.tracking_url = TRACKING_URL
        self.feature_server_url = self.feast.url
        self.register_outputs({"trackingUrl": self.tracking_url, "featureServerUrl": self.feature_server_url})
