"""Kubernetes objects: they run on the cluster's nodes (priced on the node pools), except the two that buy
cloud capacity themselves: a Karpenter NodePool (EC2 instances, priced with the AWS snapshot) and a
Service of type LoadBalancer (a cloud load balancer)."""

from __future__ import annotations

import math
from typing import Any

from mlops_tools.review.cost import aws
from mlops_tools.review.cost.model import scenarios

CLOUD = None
ON_NODES = "runs on the cluster's nodes, which are priced on the node pools"
OBJECT = "a Kubernetes API object; no cloud charge"


def _quantity(value: Any) -> float:
    """Kubernetes quantities as numbers: "32" -> 32, "500m" -> 0.5, "100Gi" -> 100 (GiB)."""
    text = str(value)
    for suffix, factor in (("Gi", 1.0), ("Mi", 1 / 1024), ("m", 1 / 1000)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def karpenter_node_pool(resource: dict[str, Any], ctx) -> Any:
    """Scale to zero: idle 0 nodes; max = the pool's CPU limit over the chosen type's vCPUs."""
    spec = resource["inputs"].get("spec", {})
    template = spec.get("template", {}).get("spec", {})
    requirements = {r.get("key"): r.get("values", []) for r in template.get("requirements", [])}
    types = requirements.get("node.kubernetes.io/instance-type", [])
    spot = "spot" in requirements.get("karpenter.sh/capacity-type", ["on-demand"])
    reg = aws.default_region(ctx)
    capacity = "spot" if spot else "on-demand"
    priced = [(ctx.snapshot.price("aws", aws.instance_key(reg, t, capacity)), t) for t in types]
    priced = sorted((p.usd, t, p) for p, t in priced if p)
    chosen = priced[0][1] if priced else (types[0] if types else "unknown")
    on_demand = ctx.snapshot.price("aws", aws.instance_key(reg, chosen, "on-demand"))
    # vCPUs are an attribute of the on-demand product (spot history has none)
    sources = [p for p in (on_demand, priced[0][2] if priced else None) if p]
    vcpus = float(next((p.attributes["vcpu"] for p in sources if p.attributes.get("vcpu")), 0))
    limit = _quantity(spec.get("limits", {}).get("cpu", 0))
    maximum = math.floor(limit / vcpus) if vcpus else 0
    nodes = scenarios(0, 0, maximum)
    charges, notes = aws.nodes_charges(reg, chosen, nodes, spot, "nodes", ctx)
    charges[0].assumption = (f"Karpenter launches the cheapest of {', '.join(types)} ({chosen}); scales to zero when idle; "
                             f"max {maximum} nodes = CPU limit {limit:g} / {vcpus:g} vCPU" if vcpus else
                             f"max size unknown: no vCPU count for {chosen} in the snapshot")
    node_class = next((c for c in ctx.of_type("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")
                       if c["inputs"].get("metadata", {}).get("name") == template.get("nodeClassRef", {}).get("name")), None)
    for mapping in (node_class or {}).get("inputs", {}).get("spec", {}).get("blockDeviceMappings", []):
        size = mapping.get("ebs", {}).get("volumeSize")
        if size:
            charges.append(aws.root_volume(reg, _quantity(size), nodes, "nodes"))
    notes["candidates"] = types
    return charges, notes


karpenter_node_pool.pricing_cloud = "aws"  # type: ignore[attr-defined]


def service(resource: dict[str, Any], ctx) -> Any:
    if resource["inputs"].get("spec", {}).get("type") != "LoadBalancer":
        return OBJECT
    return [_cloud(ctx).load_balancer_hour(_cloud(ctx).default_region(ctx))]


def _claims(values: Any) -> list[float]:
    """GiB of every volume a chart's values claim: volumeClaimTemplate requests and enabled persistence."""
    found: list[float] = []
    if isinstance(values, dict):
        claim = values.get("volumeClaimTemplate", {})
        storage = claim.get("spec", {}).get("resources", {}).get("requests", {}).get("storage") if isinstance(claim, dict) else None
        if storage:
            found.append(_quantity(storage))
        persistence = values.get("persistence")
        if isinstance(persistence, dict) and persistence.get("enabled") and persistence.get("size"):
            found.append(_quantity(persistence["size"]))
        for key, value in sorted(values.items()):
            if key not in ("volumeClaimTemplate", "persistence"):
                found += _claims(value)
    elif isinstance(values, list):
        for value in values:
            found += _claims(value)
    return found


def helm_release(resource: dict[str, Any], ctx) -> Any:
    """The chart's pods run on the nodes; the persistent volumes its values claim are cloud disks."""
    claims = _claims(resource["inputs"].get("values", {}))
    if not claims:
        return ON_NODES + "; its values claim no persistent volume or load balancer"
    cloud = _cloud(ctx)
    return [cloud.block_storage(cloud.default_region(ctx), gb, f"persistent volume {gb:g} GiB") for gb in claims]


def _cloud(ctx):
    from mlops_tools.review.cost import azure, gcp
    return {"aws": aws, "azure": azure, "gcp": gcp}[ctx.cloud]

RULES = {
    "kubernetes:karpenter.sh/v1:NodePool": karpenter_node_pool,
    "kubernetes:core/v1:Service": service,
    "kubernetes:helm.sh/v3:Release": helm_release,
}

FREE = {
    "kubernetes:apps/v1:DaemonSet": ON_NODES,
    # Argo Workflows objects: the step pods they start run on the cluster's nodes (priced there).
    "kubernetes:argoproj.io/v1alpha1:CronWorkflow": ON_NODES,
    "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate": ON_NODES,
    # Argo Events objects: the controller runs each as pods on the nodes (EventBus: JetStream without
    # persistent volumes, components/pipelines/events.py).
    "kubernetes:argoproj.io/v1alpha1:EventBus": ON_NODES + "; no persistent volume",
    "kubernetes:argoproj.io/v1alpha1:EventSource": ON_NODES + "; a ClusterIP Service, no load balancer",
    "kubernetes:argoproj.io/v1alpha1:Sensor": ON_NODES,
    "kubernetes:apps/v1:Deployment": ON_NODES,
    # Serving (components/serving): Knative runs its controllers and Kourier as pods on the nodes, with a
    # ClusterIP gateway (no load balancer); a ServingRuntime is a template the InferenceService's pods use;
    # a PodMonitor is scrape configuration for the in-cluster Prometheus.
    "kubernetes:operator.knative.dev/v1beta1:KnativeServing": ON_NODES + "; Kourier as a ClusterIP Service, no load balancer",
    "kubernetes:serving.kserve.io/v1alpha1:ServingRuntime": "a template: the model server pods made from it run on the nodes",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService": ON_NODES + " (scales to zero when minReplicas is 0)",
    "kubernetes:monitoring.coreos.com/v1:PodMonitor": OBJECT,
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass": "a template: its volumes are priced on the Karpenter NodePool that uses it",
    "kubernetes:cert-manager.io/v1:Certificate": OBJECT + " (issued in the cluster by the platform CA)",
    "kubernetes:cert-manager.io/v1:ClusterIssuer": OBJECT,
    "kubernetes:core/v1:ConfigMap": OBJECT,
    "kubernetes:core/v1:LimitRange": OBJECT,
    "kubernetes:core/v1:Namespace": OBJECT,
    "kubernetes:core/v1:ResourceQuota": OBJECT,
    "kubernetes:core/v1:Secret": OBJECT,
    "kubernetes:core/v1:ServiceAccount": OBJECT,
    "kubernetes:external-secrets.io/v1:ClusterSecretStore": OBJECT,
    "kubernetes:external-secrets.io/v1:ExternalSecret": OBJECT,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": OBJECT,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": OBJECT,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": OBJECT,
    "kubernetes:policy/v1:PodDisruptionBudget": OBJECT,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": OBJECT,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": OBJECT,
    "kubernetes:ray.io/v1:RayJob": "created suspended; when started its pods run on the training pools' nodes, "
                                   "which are priced on the node pools",
    "kubernetes:scheduling.k8s.io/v1:PriorityClass": OBJECT,
    "kubernetes:storage.k8s.io/v1:StorageClass": OBJECT + " (volumes made from it are priced when claimed)",
}
