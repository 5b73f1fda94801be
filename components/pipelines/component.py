"""``mlops:pipelines:RetrainingPipeline``: the cloud-neutral, in-cluster half of the retraining pipeline.

The ``pipelines`` namespace (Pod Security restricted, ResourceQuota + LimitRange like the baseline's
namespaces, default deny + DNS, the exact-egress policies of ``network.py``), Argo Workflows from its pinned
chart (``argo.py``), the retraining WorkflowTemplate and CronWorkflow (``workflows.py``) created after the
release (its CRDs), and the steps' MLflow credential: a generated password in Secret ``mlflow-pipelines``
here; ``mlflow_user`` hands the same user to MlflowServer, which keeps the copy its migrate step reads and
grants the user EDIT on the registered model only (``components/k8s/service_users.py``). The cloud files
(``aws.py``/``azure.py``/``gcp.py``) give it the artifact store and the step identity's annotations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.k8s import IdentityEndpoint, MlflowServiceUser
from components.k8s._common import metadata, tcp_ports
from components.k8s.baseline import quota_and_limits
from components.pipelines import (CONTAINER_LIMITS, MLFLOW_USER_SECRET, MLFLOW_USERNAME, RetrainingArgs,
                                  namespace_quota)
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
    step_identity_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    environment: str = "dev"  # sizes the namespace quota
    # Token endpoints of the cloud's workload identity outside HTTPS (GKE's metadata server).
    identity_endpoints: Sequence[IdentityEndpoint] = ()
    # Cloud resources the steps need before they run (the identity's grants): the release waits for them.
    depends_on: Sequence[pulumi.Resource] = ()
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
        quota_and_limits(namespace, namespace_quota(args.environment), CONTAINER_LIMITS, in_ns)
        manifests = [*baseline_policies(namespace), *network_policies(namespace)]
        if args.identity_endpoints:
            manifests.append(_identity_endpoint_policy(namespace, args.identity_endpoints))
        policies = [k8s.networking.v1.NetworkPolicy(f"{name}-{p['metadata']['name']}", metadata=p["metadata"],
                                                    spec=p["spec"], opts=in_ns)
                    for p in manifests]
        password = random.RandomPassword(f"{name}-mlflow-password", length=32, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        self.mlflow_secret = k8s.core.v1.Secret(
            f"{name}-mlflow", metadata=metadata(MLFLOW_USER_SECRET, namespace, {"app.kubernetes.io/part-of": "mlops-platform"}),
            type="Opaque", string_data={"username": MLFLOW_USERNAME, "password": password.result}, opts=in_ns)
        self.mlflow_user = MlflowServiceUser(secret=MLFLOW_USER_SECRET, username=MLFLOW_USERNAME,
                                             password=password.result, registered_model=args.retraining.model_name)
        self.release = k8s.helm.v3.Release(
            name, name=RELEASE_NAME, chart=ARGO_CHART, version=ARGO_CHART_VERSION,
            repository_opts={"repo": ARGO_CHART_REPOSITORY}, namespace=namespace, create_namespace=False,
            values=values, atomic=True, cleanup_on_fail=True, timeout=600, max_history=10,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                ns, *policies, *args.depends_on,
                *(ui_sso.register(name, args.ui_sso, namespace, in_ns) if args.ui_sso else [])]))
        after_release = pulumi.ResourceOptions(parent=self, depends_on=[self.release, self.mlflow_secret])
        for suffix, manifest in (("template", template), ("cron", cron)):
            k8s.apiextensions.CustomResource(f"{name}-{suffix}", api_version=manifest["apiVersion"],
                                             kind=manifest["kind"], metadata=manifest["metadata"],
                                             spec=manifest["spec"], opts=after_release)
        self.namespace = namespace
        # The arguments as the cloud's builder completed them (region env, workload-identity pod labels):
        # the drift job (DriftMonitoring) runs with exactly the steps' settings.
        self.retraining = args.retraining
        self.register_outputs({"namespace": namespace, "release": self.release.name, "mlflowSecret": MLFLOW_USER_SECRET})


def _identity_endpoint_policy(namespace: str, endpoints: Sequence[IdentityEndpoint]) -> dict:
    """Egress to the workload-identity token endpoints (as the baseline opens them in its namespaces)."""
    egress = [{"to": [{"ipBlock": {"cidr": e.cidr}}], "ports": tcp_ports([e.port])}
              for e in sorted(set(endpoints), key=lambda e: (e.cidr, e.port))]
    return {"metadata": {"name": "allow-workload-identity", "namespace": namespace,
                         "labels": {"app.kubernetes.io/part-of": "mlops-platform"}},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": egress}}
