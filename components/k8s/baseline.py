"""ClusterBaseline: the namespaces, priorities, quotas and network isolation every workload lands in.

Why each piece exists:
- One namespace per concern, so quotas, Pod Security levels and network policies follow the concern.
- PriorityClasses: under node pressure (or a spot reclaim) the scheduler evicts preemptible training
  before serving; training pods never preempt anything themselves.
- ResourceQuota + LimitRange: a runaway job cannot take the cluster, and a pod without requests still
  gets sane ones (quotas on limits would otherwise reject it).
- Default-deny NetworkPolicies (ingress and egress) in every namespace; each workload component then
  opens exactly its own ports. This module opens DNS everywhere and the team namespaces' traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import (
    RAY_TRAINING_APP,
    REQUEST_LOG_APP,
    FEAST_PORT,
    MLFLOW_PORT,
    MONITORING_NAMESPACE,
    NAMESPACES,
    NODE_AGENTS_NAMESPACE,
    PLATFORM_NAMESPACE,
    PRIORITY_NODE_AGENT,
    PRIORITY_SERVING,
    PRIORITY_TRAINING,
    SERVING_NAMESPACE,
    TRAINING_NAMESPACE,
    TRAINING_SERVICE_ACCOUNT,
    ClusterBaselineArgs,
    NamespaceQuota,
)
from components.k8s._common import (
    KUBE_DNS,
    InvalidInput,
    from_cidrs,
    from_namespaces,
    metadata,
    require_cidrs,
    require_environment,
    tcp_ports,
)

POD_SECURITY = {
    PLATFORM_NAMESPACE: "restricted",
    TRAINING_NAMESPACE: "restricted",
    SERVING_NAMESPACE: "restricted",
    # kube-prometheus-stack renders pods this program cannot inspect; baseline still forbids
    # privileged pods, host namespaces and hostPath, and restricted violations are reported.
    MONITORING_NAMESPACE: "baseline",
    # The NVIDIA device plugin mounts the kubelet's device-plugin directory; node-exporter reads the
    # host's /proc and /sys. Nothing else is scheduled here.
    NODE_AGENTS_NAMESPACE: "privileged",
}

# Namespaces whose pods get cloud credentials through workload identity.
IDENTITY_NAMESPACES = (PLATFORM_NAMESPACE, TRAINING_NAMESPACE, SERVING_NAMESPACE)

PURPOSE = {
    PLATFORM_NAMESPACE: "MLflow tracking server and Feast feature server",
    MONITORING_NAMESPACE: "Prometheus, Alertmanager, Grafana",
    TRAINING_NAMESPACE: "training jobs on spot/preemptible pools",
    SERVING_NAMESPACE: "model servers",
    NODE_AGENTS_NAMESPACE: "per-node agents: NVIDIA device plugin, DCGM exporter, node-exporter",
}


@dataclass(frozen=True)
class ContainerLimits:
    default_cpu: str
    default_memory: str
    request_cpu: str
    request_memory: str
    max_cpu: str
    max_memory: str


# Defaults for containers that declare nothing, and the largest container a namespace admits.
LIMIT_RANGES = {
    PLATFORM_NAMESPACE: ContainerLimits("500m", "512Mi", "100m", "256Mi", "4", "16Gi"),
    MONITORING_NAMESPACE: ContainerLimits("500m", "512Mi", "50m", "128Mi", "8", "32Gi"),
    TRAINING_NAMESPACE: ContainerLimits("1", "2Gi", "250m", "512Mi", "192", "2Ti"),
    SERVING_NAMESPACE: ContainerLimits("1", "1Gi", "100m", "256Mi", "32", "256Gi"),
    NODE_AGENTS_NAMESPACE: ContainerLimits("250m", "256Mi", "20m", "32Mi", "1", "2Gi"),
}

# Per node: node-exporter; per GPU node: device plugin + DCGM exporter (their limits, see gpu.py / monitoring.py).
_AGENT_CPU_MILLI_PER_NODE = 250
_AGENT_MEMORY_MI_PER_NODE = 128
_AGENT_CPU_MILLI_PER_GPU_NODE = 700
_AGENT_MEMORY_MI_PER_GPU_NODE = 1280


def default_quotas(environment: str, max_nodes: int, max_gpu_nodes: int) -> dict[str, NamespaceQuota]:
    """Quotas per namespace: dev is sized for one team experimenting, staging/prod for the whole team."""
    scale = 1 if environment == "dev" else 4
    agent_cpu = max_nodes * _AGENT_CPU_MILLI_PER_NODE + max_gpu_nodes * _AGENT_CPU_MILLI_PER_GPU_NODE + 1000
    agent_memory = max_nodes * _AGENT_MEMORY_MI_PER_NODE + max_gpu_nodes * _AGENT_MEMORY_MI_PER_GPU_NODE + 1024
    return {
        PLATFORM_NAMESPACE: NamespaceQuota(f"{4 * min(scale, 2)}", f"{8 * min(scale, 2)}Gi",
                                           f"{8 * min(scale, 2)}", f"{16 * min(scale, 2)}Gi", pods=20 * min(scale, 2)),
        MONITORING_NAMESPACE: NamespaceQuota(f"{4 * min(scale, 2)}", f"{16 * min(scale, 2)}Gi",
                                             f"{8 * min(scale, 2)}", f"{32 * min(scale, 2)}Gi", pods=30),
        TRAINING_NAMESPACE: NamespaceQuota(f"{64 * scale}", f"{256 * scale}Gi", f"{128 * scale}", f"{512 * scale}Gi",
                                           pods=100 * scale, gpus=8 * scale),
        SERVING_NAMESPACE: NamespaceQuota(f"{8 * scale}", f"{32 * scale}Gi", f"{16 * scale}", f"{64 * scale}Gi",
                                          pods=50 * scale),
        NODE_AGENTS_NAMESPACE: NamespaceQuota(f"{agent_cpu // 4}m", f"{agent_memory // 4}Mi", f"{agent_cpu}m",
                                              f"{agent_memory}Mi", pods=max_nodes + 2 * max_gpu_nodes + 5),
    }


def _quota_spec(quota: NamespaceQuota) -> dict[str, Any]:
    hard: dict[str, Any] = {
        "requests.cpu": quota.requests_cpu, "requests.memory": quota.requests_memory,
        "limits.cpu": quota.limits_cpu, "limits.memory": quota.limits_memory, "pods": str(quota.pods),
    }
    if quota.gpus:
        hard["requests.nvidia.com/gpu"] = str(quota.gpus)
    return {"hard": hard}


def quota_and_limits(namespace: str, quota: NamespaceQuota, limits: ContainerLimits,
                     opts: pulumi.ResourceOptions) -> None:
    """The namespace's ResourceQuota and LimitRange (resources ``<namespace>-quota``/``-limits``, children of
    ``opts.parent``); any component that owns a namespace gives it these, as the baseline does its own."""
    labels = {"app.kubernetes.io/part-of": "mlops-platform"}
    k8s.core.v1.ResourceQuota(f"{namespace}-quota", metadata=metadata("platform-quota", namespace, labels),
                              spec=_quota_spec(quota), opts=opts)
    if namespace == NODE_AGENTS_NAMESPACE:
        # system-node-critical pods outside kube-system need a quota that names the class
        # (clouds configure ResourceQuota admission to limit critical priorities to such namespaces).
        spec = _quota_spec(quota)
        spec["scopeSelector"] = {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": [PRIORITY_NODE_AGENT]}]}
        k8s.core.v1.ResourceQuota(f"{namespace}-critical-quota",
                                  metadata=metadata("node-critical-quota", namespace, labels), spec=spec, opts=opts)
    k8s.core.v1.LimitRange(f"{namespace}-limits", metadata=metadata("container-defaults", namespace, labels), spec={
        "limits": [{
            "type": "Container",
            "default": {"cpu": limits.default_cpu, "memory": limits.default_memory},
            "defaultRequest": {"cpu": limits.request_cpu, "memory": limits.request_memory},
            "max": {"cpu": limits.max_cpu, "memory": limits.max_memory},
        }],
    }, opts=opts)


class ClusterBaseline(pulumi.ComponentResource):
    """Namespaces, PriorityClasses, quotas, limit ranges and default-deny network policies."""

    namespaces: dict[str, k8s.core.v1.Namespace]
    namespace_names: dict[str, pulumi.Output[str]]
    priority_classes: dict[str, k8s.scheduling.v1.PriorityClass]
    training_service_account: k8s.core.v1.ServiceAccount

    def __init__(self, name: str, args: ClusterBaselineArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:k8s:ClusterBaseline", name, None, opts)
        environment = require_environment(args.environment)
        private_cidrs = require_cidrs(args.private_network_cidrs, "ClusterBaselineArgs.private_network_cidrs")
        if args.max_nodes < 1 or not 0 <= args.max_gpu_nodes <= args.max_nodes:
            raise InvalidInput(f"ClusterBaselineArgs: max_nodes ({args.max_nodes}) must be >= 1 and max_gpu_nodes "
                               f"({args.max_gpu_nodes}) between 0 and max_nodes")
        unknown = sorted(set(args.quotas) - set(NAMESPACES))
        if unknown:
            raise InvalidInput(f"ClusterBaselineArgs.quotas: unknown namespace(s) {', '.join(unknown)}; "
                               f"the platform's namespaces are {', '.join(NAMESPACES)}")
        quotas = {**default_quotas(environment, args.max_nodes, args.max_gpu_nodes), **args.quotas}
        child = pulumi.ResourceOptions(parent=self)

        self.priority_classes = {
            PRIORITY_TRAINING: k8s.scheduling.v1.PriorityClass(
                PRIORITY_TRAINING, metadata={"name": PRIORITY_TRAINING}, value=1000, global_default=False,
                preemption_policy="Never",
                description="Training on spot/preemptible capacity: evicted first under pressure, never preempts.",
                opts=child),
            PRIORITY_SERVING: k8s.scheduling.v1.PriorityClass(
                PRIORITY_SERVING, metadata={"name": PRIORITY_SERVING}, value=1_000_000, global_default=False,
                preemption_policy="PreemptLowerPriority",
                description="Model serving and the platform's own services: scheduled ahead of training.",
                opts=child),
        }

        self.namespaces = {}
        for namespace in NAMESPACES:
            level = POD_SECURITY[namespace]
            labels = {"kubernetes.io/metadata.name": namespace, "app.kubernetes.io/part-of": "mlops-platform",
                      "pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": "latest",
                      "pod-security.kubernetes.io/warn": "restricted" if level != "privileged" else level,
                      "pod-security.kubernetes.io/audit": "restricted" if level != "privileged" else level}
            self.namespaces[namespace] = k8s.core.v1.Namespace(
                namespace, metadata={"name": namespace, "labels": labels,
                                     "annotations": {"mlops.dev/purpose": PURPOSE[namespace]}}, opts=child)
        self.namespace_names = {ns: resource.metadata.name for ns, resource in self.namespaces.items()}

        for namespace in NAMESPACES:
            in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[namespace]])
            quota_and_limits(namespace, quotas[namespace], LIMIT_RANGES[namespace], in_namespace)
            self._default_deny(namespace, in_namespace)

        self._team_namespace_policies(private_cidrs)
        self._identity_endpoint_policies(args.identity_endpoints)
        self.training_service_account = k8s.core.v1.ServiceAccount(
            f"{TRAINING_NAMESPACE}-{TRAINING_SERVICE_ACCOUNT}",
            metadata=metadata(TRAINING_SERVICE_ACCOUNT, TRAINING_NAMESPACE, {"app.kubernetes.io/part-of": "mlops-platform"},
                              args.training_service_account_annotations),
            # Training code reads data through workload identity, not the Kubernetes API.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[TRAINING_NAMESPACE]]))

        self.register_outputs({"namespaces": self.namespace_names,
                               "priorityClasses": sorted(self.priority_classes)})

    def _default_deny(self, namespace: str, opts: pulumi.ResourceOptions) -> None:
        labels = {"app.kubernetes.io/part-of": "mlops-platform"}
        k8s.networking.v1.NetworkPolicy(f"{namespace}-default-deny", metadata=metadata("default-deny", namespace, labels),
                                        spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, opts=opts)
        k8s.networking.v1.NetworkPolicy(f"{namespace}-allow-dns", metadata=metadata("allow-dns", namespace, labels), spec={
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [KUBE_DNS], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}],
        }, opts=opts)

    def _identity_endpoint_policies(self, endpoints) -> None:
        """Egress to the workload-identity token endpoints in the namespaces whose pods use workload identity
        (MLflow and Feast in mlops, training jobs, model servers); nothing else may reach them."""
        if not endpoints:
            return
        labels = {"app.kubernetes.io/part-of": "mlops-platform"}
        egress = [{"to": [{"ipBlock": {"cidr": endpoint.cidr}}], "ports": tcp_ports([endpoint.port])}
                  for endpoint in sorted(set(endpoints), key=lambda e: (e.cidr, e.port))]
        for namespace in IDENTITY_NAMESPACES:
            k8s.networking.v1.NetworkPolicy(
                f"{namespace}-allow-workload-identity", metadata=metadata("allow-workload-identity", namespace, labels),
                spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": egress},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[namespace]]))

    def _team_namespace_policies(self, private_cidrs: list[str]) -> None:
        """What team workloads in training/serving may reach; platform services open their own side."""
        labels = {"app.kubernetes.io/part-of": "mlops-platform"}
        platform_services = [{"to": from_namespaces([PLATFORM_NAMESPACE]), "ports": tcp_ports([MLFLOW_PORT, FEAST_PORT])}]
        # Object stores, registries and cloud identity endpoints are public HTTPS endpoints (or
        # private endpoints whose addresses the cloud assigns), so 443 is open, nothing else.
        https_out = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": tcp_ports([443])}]
        scraped = [{"from": from_namespaces([MONITORING_NAMESPACE])}]
        # Distributed training (NCCL, torch.distributed) talks pod to pod on arbitrary ports; the platform's
        # Ray pods (components/training/distributed.py) are left out: their own policy names Ray's ports.
        peers = {"podSelector": {"matchExpressions": [
            {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [RAY_TRAINING_APP]}]}}
        # The serving request log takes events from the predictors only (its own policy): not this open one.
        not_request_log = {"matchExpressions": [
            {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [REQUEST_LOG_APP]}]}
        for namespace, selector, extra_ingress, extra_egress in (
            (TRAINING_NAMESPACE, {}, [], []),
            # Model servers answer callers inside the cluster and on the private network.
            (SERVING_NAMESPACE, not_request_log, [{"from": [{"namespaceSelector": {}}] + from_cidrs(private_cidrs)}], []),
        ):
            deps = pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[namespace]])
            k8s.networking.v1.NetworkPolicy(f"{namespace}-workloads", metadata=metadata("workloads", namespace, labels), spec={
                "podSelector": selector, "policyTypes": ["Ingress", "Egress"],
                "ingress": scraped + extra_ingress,
                "egress": platform_services + https_out + extra_egress,
            }, opts=deps)
        k8s.networking.v1.NetworkPolicy(f"{TRAINING_NAMESPACE}-peers", metadata=metadata("peers", TRAINING_NAMESPACE, labels), spec={
            **peers, "policyTypes": ["Ingress", "Egress"], "ingress": [{"from": [peers]}], "egress": [{"to": [peers]}],
        }, opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespaces[TRAINING_NAMESPACE]]))
