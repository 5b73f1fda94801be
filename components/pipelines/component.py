"""``mlops:pipelines:RetrainingPipeline``: the cloud-neutral, in-cluster half of the retraining pipeline.

The ``pipelines`` namespace (Pod Security restricted, default deny + DNS, the exact-egress policies of
``network.py``), Argo Workflows from its pinned chart (``argo.py``), and the retraining WorkflowTemplate
and CronWorkflow (``workflows.py``) created after the release (its CRDs). The cloud files (to come:
``aws.py``/``azure.py``/``gcp.py``) give it the artifact store and the step identity's annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.pipelines import RetrainingArgs
from components.pipelines.argo import (ARGO_CHART, ARGO_CHART_REPOSITORY, ARGO_CHART_VERSION, ArtifactStore,
                                       argo_values)
from components.pipelines import ui_sso
from components.pipelines.ui_sso import PipelineUiSso
from components.pipelines.network import baseline_policies, network_policies
from components.pipelines.workflows import cron_workflow, workflow_template

RELEASE_NAME = "argo-workflows"


@dataclass(frozen=True)
class RetrainingPipelineArgs:
    retraining: RetrainingArgs
    artifact_store: ArtifactStore
    step_identity_annotations: Mapping[str, str] = field(default_factory=dict)
    ui_sso: Optional[PipelineUiSso] = None  # None: the UI keeps client auth (kubectl port-forward only)


class RetrainingPipeline(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: RetrainingPipelineArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:pipelines:RetrainingPipeline", name, None, opts)
        namespace = args.retraining.namespace
        # Render (and check) everything before registering anything: bad input fails the program cleanly.
        template, cron = workflow_template(args.retraining), cron_workflow(args.retraining)
        values = argo_values(args.artifact_store, args.step_identity_annotations, namespace, args.ui_sso)
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": namespace, "labels": {
            "app.kubernetes.io/part-of": "mlops-platform", "kubernetes.io/metadata.name": namespace,
            "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted"}},
            opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        policies = [k8s.networking.v1.NetworkPolicy(f"{name}-{p['metadata']['name']}", metadata=p["metadata"],
                                                    spec=p["spec"], opts=in_ns)
                    for p in [*baseline_policies(namespace), *network_policies(namespace)]]
        self.release = k8s.helm.v3.Release(
            name, name=RELEASE_NAME, chart=ARGO_CHART, version=ARGO_CHART_VERSION,
            repository_opts={"repo": ARGO_CHART_REPOSITORY}, namespace=namespace, create_namespace=False,
            values=values, atomic=True, cleanup_on_fail=True, timeout=600, max_history=10,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                ns, *policies, *(ui_sso.register(name, args.ui_sso, namespace, in_ns) if args.ui_sso else [])]))
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[self.release])
        for suffix, manifest in (("template", template), ("cron", cron)):
            k8s.apiextensions.CustomResource(f"{name}-{suffix}", api_version=manifest["apiVersion"],
                                             kind=manifest["kind"], metadata=manifest["metadata"],
                                             spec=manifest["spec"], opts=after_release)
        self.namespace = namespace
        self.register_outputs({"namespace": namespace, "release": self.release.name})
