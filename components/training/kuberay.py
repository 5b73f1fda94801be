"""``DistributedTraining`` (``mlops:training:DistributedTraining``): the KubeRay operator and one stopped
``RayJob`` per training pool, on every cloud (the renderers and the reasoning are in ``distributed.py``).

- The operator: Helm chart ``kuberay-operator`` (pinned), in its own namespace ``kuberay`` (Pod Security
  ``restricted``, default deny, DNS, the Kubernetes API on 443, scraped from ``monitoring``), on the
  on-demand system nodes, watching the ``training`` namespace only. The chart installs the RayJob and
  RayCluster CRDs the plan's RayJobs are validated against (mlops_tools/validate/crd_schemas).
- NetworkPolicies in ``training``: Ray's fixed ports between the job's pods, the submitter to the head's
  job API, the head and workers to MLflow; the rest (HTTPS, the scrape) is the namespace's baseline.
- The training jobs' MLflow credential: Secret ``mlflow-training`` in ``training`` with the password the
  stack generated for ``MlflowServiceUser`` ``svc-training`` (the same user MlflowServer seeds); the head and
  workers read it through secretKeyRef, and every RayJob waits for it.
- A RayJob per pool, ``suspend: true`` (a deploy never starts training); the spec's ``suspend`` is left to
  whoever starts the job (``ignore_changes``), so a later ``pulumi up`` never stops a running one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import MONITORING_NAMESPACE, TRAINING_NAMESPACE, MlflowServiceUser
from components.k8s._common import KUBE_DNS, from_namespaces, metadata, tcp_ports
from components.training.distributed import (KUBERAY_CHART, KUBERAY_CHART_REPOSITORY, KUBERAY_CHART_VERSION,
                                             KUBERAY_NAMESPACE, RayJobArgs, network_policies, operator_values,
                                             rayjob_metadata, rayjob_spec)

OPERATOR_METRICS_PORT = 8080
_PART_OF = {"app.kubernetes.io/part-of": "mlops-platform"}


@dataclass(frozen=True)
class DistributedTrainingArgs:
    jobs: Sequence[RayJobArgs]
    # The checkpoint prefix in the platform's object store (e.g. s3://<artifacts bucket>/checkpoints); the
    # training identity may read and write there (TrainingJobIdentity on each cloud).
    storage_uri: pulumi.Input[str]
    features: pulumi.Input[str]  # the offline-store parquet every job reads (may be known only at deploy time)
    # The baseline's training namespace (its resource), so the policies and jobs are created after it.
    depends_on: Sequence[pulumi.Resource] = ()
    # The jobs' MLflow user (the component sets each job's ``mlflow_secret`` to its Secret); None: no tracking.
    mlflow_user: Optional[MlflowServiceUser] = None


class DistributedTraining(pulumi.ComponentResource):
    def __init__(self, name: str, args: DistributedTrainingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:DistributedTraining", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(f"{name}-operator-namespace", metadata={
            "name": KUBERAY_NAMESPACE, "labels": {**_PART_OF, "pod-security.kubernetes.io/enforce": "restricted",
                                                 "pod-security.kubernetes.io/warn": "restricted",
                                                 "pod-security.kubernetes.io/audit": "restricted"}}, opts=child)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        k8s.networking.v1.NetworkPolicy(f"{name}-operator-default-deny", metadata={
            "name": "default-deny", "namespace": KUBERAY_NAMESPACE, "labels": _PART_OF},
            spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, opts=in_namespace)
        k8s.networking.v1.NetworkPolicy(f"{name}-operator", metadata={
            "name": "kuberay-operator", "namespace": KUBERAY_NAMESPACE, "labels": _PART_OF}, spec={
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "kuberay-operator"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports([OPERATOR_METRICS_PORT])}],
            # DNS, and the Kubernetes API (the managed control plane's address is the cloud's, not visible
            # offline; 443 is its port on EKS, AKS and GKE). The operator reaches no Ray pod: its health
            # checks go through the API server.
            "egress": [{"to": [KUBE_DNS], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                       {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])}],
        }, opts=in_namespace)
        self.release = k8s.helm.v3.Release(
            f"{name}-operator", name="kuberay-operator", chart=KUBERAY_CHART, version=KUBERAY_CHART_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=KUBERAY_CHART_REPOSITORY),
            namespace=KUBERAY_NAMESPACE, values=operator_values(), atomic=True, cleanup_on_fail=True,
            max_history=10, timeout=600, opts=in_namespace)

        after = pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on])
        self.network_policies = [
            k8s.networking.v1.NetworkPolicy(f"{name}-{policy['metadata']['name']}", metadata=policy["metadata"],
                                            spec=policy["spec"], opts=after)
            for policy in network_policies()]
        secrets: list[pulumi.Resource] = []
        if args.mlflow_user is not None:
            user = args.mlflow_user
            secrets.append(k8s.core.v1.Secret(
                f"{name}-mlflow", metadata=metadata(user.secret, TRAINING_NAMESPACE, _PART_OF), type="Opaque",
                string_data={"username": user.username, "password": pulumi.Output.secret(user.password)}, opts=after))
        mlflow_secret = args.mlflow_user.secret if args.mlflow_user else None
        self.jobs: dict[str, k8s.apiextensions.CustomResource] = {}
        for job in args.jobs:
            spec = pulumi.Output.all(args.storage_uri, job.image, args.features).apply(
                lambda resolved, job=job: rayjob_spec(replace(job, image=resolved[1], features=resolved[2],
                                                       mlflow_secret=mlflow_secret), resolved[0]))
            self.jobs[job.pool] = k8s.apiextensions.CustomResource(
                f"{name}-{job.name}", api_version="ray.io/v1", kind="RayJob", metadata=rayjob_metadata(job), spec=spec,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, *secrets, *args.depends_on],
                                            ignore_changes=["spec.suspend"]))
        self.job_names = {pool: job.name for pool, job in zip(self.jobs, args.jobs)}
        self.register_outputs({"chartVersion": KUBERAY_CHART_VERSION, "jobs": self.job_names})
