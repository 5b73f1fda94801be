"""GKE training pools: Spot VMs that scale to zero, CPU and GPU, one GKE node pool per machine type.

Several ``instanceTypes`` per pool: a GKE node pool has exactly one machine type, so each
``mlops:trainingPools`` entry becomes one node pool per machine type, all with the pool's labels
and taints. A job selecting ``mlops.dev/pool=<name>`` fits any of them; when one spot market has
no capacity the cluster autoscaler backs that node pool off and scales another. Each node pool
autoscales 0..``maxNodes`` (``minNodes`` is kept on the first machine type only), so a pool can
use its full size from whichever market has capacity; what a pool can cost is bounded by the
``training`` namespace ResourceQuota (CPU, memory, GPUs), not by node counts. Node
auto-provisioning was not used: its limits are cluster-wide and it creates pools from pending
pods, so the per-pool labels, taints, spot-only and CMEK disks would not be the plan's.

GPU pools are placed only in the cluster zones that offer their machine type (A2/A3 are in some
zones of a region only; ``gcp_gpu_zones.json``, sourced and dated, read by ``gpu_pool_zones``); CPU
pools use every cluster zone. GPU pools attach the accelerators the machine type comes with (``GPU_MACHINE_FAMILIES``) and
let GKE install the NVIDIA driver (``gpu_driver_version: DEFAULT``, the version tested with the
node's GKE version); GKE runs its own device plugin, and GPU metrics come from GKE's managed DCGM
package (``GcpClusterInputs.gpu_metrics``), so the platform's GpuNodeAgents are not deployed on GKE.

Interruptions: a preempted Spot VM gets a 30 s notice; the kubelet's graceful node shutdown
then stops pods (they end ``Failed`` with reason ``Terminated``) and the autoscaler replaces the
node. By default non-system pods get 15 s of that; spot training pools raise the node's shutdown
grace period to the 120 s GKE allows for Spot VMs (``SPOT_SHUTDOWN_GRACE_SECONDS``, 15 s of it
kept for system pods), so a training pod gets up to 105 s to write a checkpoint. GKE accepts the
setting from 1.35.0-gke.1171000, so it is set only when ``mlops:cluster.version`` is 1.35 or newer. No handler is added on
top, because the kubelet already is one. The rest is the platform's baseline and the job's own
shape: training pods run with the ``training-preemptible`` PriorityClass, so they go first under
pressure and never block system pods; jobs checkpoint to object storage and set
``terminationGracePeriodSeconds`` <= 105; Kubernetes Jobs retry pods that fail with the
``DisruptionTarget`` condition (``podFailurePolicy``) without using their backoff;
PodDisruptionBudgets protect the platform's own pods from autoscaler scale-down and upgrades
(they cannot stop a preemption). The neutral "spot interruptions" dashboard panels (spot nodes
lost, failed training pods) cover GKE; there is no interruption consumer with metrics of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.features import OFFLINE_PREFIX, REGISTRY_PREFIX
from components.k8s import TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT
from components.training import TrainingPoolArgs, node_labels, node_taints, zones_offering

# GPU machine families: machine-type pattern -> (accelerator type, GPUs for the size in group 1).
GPU_MACHINE_FAMILIES: tuple[tuple[re.Pattern[str], str, Optional[dict[str, int]]], ...] = (
    (re.compile(r"^g2-standard-(\d+)$"), "nvidia-l4", {"4": 1, "8": 1, "12": 1, "16": 1, "32": 1, "24": 2, "48": 4, "96": 8}),
    (re.compile(r"^a2-highgpu-(\d+)g$"), "nvidia-tesla-a100", None),
    (re.compile(r"^a2-megagpu-(\d+)g$"), "nvidia-tesla-a100", None),
    (re.compile(r"^a2-ultragpu-(\d+)g$"), "nvidia-a100-80gb", None),
    (re.compile(r"^a3-(?:highgpu|edgegpu)-(\d+)g$"), "nvidia-h100-80gb", None),
    (re.compile(r"^a3-megagpu-(\d+)g$"), "nvidia-h100-mega-80gb", None),
    (re.compile(r"^a3-ultragpu-(\d+)g$"), "nvidia-h200-141gb", None),
    (re.compile(r"^a4-highgpu-(\d+)g$"), "nvidia-b200", None),
)

# Machine series whose boot disk must be Hyperdisk (no Persistent Disk support).
HYPERDISK_ONLY = re.compile(r"^(a4-|a3-ultragpu-)")

TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}

# Graceful node shutdown on Spot VMs: the longest GKE allows, of which system pods keep their 15 s.
SPOT_SHUTDOWN_GRACE_SECONDS = 120
SPOT_SHUTDOWN_GRACE_CRITICAL_SECONDS = 15
SPOT_SHUTDOWN_GRACE_MIN_VERSION = (1, 35)


GPU_ZONES_TABLE = Path(__file__).with_name("gcp_gpu_zones.json")  # sourced and dated; see its "about"


@lru_cache(maxsize=1)
def gpu_zone_table() -> dict:
    return json.loads(GPU_ZONES_TABLE.read_text())


def gpu_pool_zones(machine_type: str, region: str, cluster_zones: Sequence[str]) -> list[str]:
    """The cluster zones offering a GPU machine type (A2/A3 are in only some zones); ValueError naming the
    zones that would offer it, or that the table has no row for it."""
    table = gpu_zone_table()
    zones = zones_offering(machine_type, region, cluster_zones, table["series"])
    if zones is None:
        raise ValueError(f"{machine_type} has no zone list for {region} in {GPU_ZONES_TABLE.name} (checked "
                         f"{table['checkedOn']}); add the zones that offer it from {table['source'].split(' ')[-1]}")
    if not zones:
        series = max((p for p in table["series"] if machine_type.startswith(p)), key=len)
        offered = ", ".join(table["series"][series][region]) or "none"
        raise ValueError(f"{machine_type} is offered in {region} only in zones: {offered}; none of the "
                         f"cluster's zones ({', '.join(cluster_zones)}) has it")
    return zones


def gpu_accelerator(machine_type: str) -> tuple[str, int]:
    """(accelerator type, count) attached to a GPU machine type; ValueError naming what is supported."""
    for pattern, accelerator, sizes in GPU_MACHINE_FAMILIES:
        match = pattern.match(machine_type)
        if not match:
            continue
        if sizes is None:
            return accelerator, int(match.group(1))
        if match.group(1) in sizes:
            return accelerator, sizes[match.group(1)]
    raise ValueError(f"{machine_type} is not a GCP GPU machine type the platform knows (g2-standard-N, "
                     "a2-highgpu/megagpu/ultragpu-Ng, a3-highgpu/edgegpu/megagpu/ultragpu-Ng, a4-highgpu-Ng)")


def node_pool_name(pool: str, machine_type: str) -> str:
    """`<pool>-<machine type>`, at most 40 characters (GKE's limit), shortened with a hash if needed."""
    name = f"{pool}-{machine_type}"
    if len(name) <= 40:
        return name
    return f"{name[:35].rstrip('-')}-{hashlib.sha256(name.encode()).hexdigest()[:4]}"


@dataclass(frozen=True)
class GcpTrainingPoolInputs:
    """GCP-only inputs: the cluster the pools join (``components.cluster.gcp.Cluster``)."""

    cluster: "pulumi.Resource"  # components.cluster.gcp.Cluster (node_config(), name, project, location)
    node_service_account: pulumi.Input[str]
    # The cluster's zones: GPU node pools go only to those offering their machine type (gpu_pool_zones);
    # CPU pools inherit them all.
    zones: Sequence[str] = ()


class TrainingPool(pulumi.ComponentResource):
    """One ``mlops:trainingPools`` entry on GKE (outputs: see components.training).

    GCP extras: ``node_pools`` (machine type -> gcp.container.NodePool), ``accelerators`` (machine type ->
    (accelerator, count)) for GPU pools.
    """

    def __init__(self, name: str, args: TrainingPoolArgs, gcp_inputs: GcpTrainingPoolInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:TrainingPool", name, None, opts)
        cluster = gcp_inputs.cluster
        self.name = args.name
        self.node_labels = node_labels(args)
        self.taints = node_taints(args)
        gke_taints = [{"key": t.key, "value": t.value, "effect": TAINT_EFFECTS[t.effect]} for t in self.taints]
        self.accelerators = {machine: gpu_accelerator(machine) for machine in args.instance_types} if args.is_gpu else {}
        self.node_pools: dict[str, gcp.container.NodePool] = {}
        version = tuple(int(part) for part in cluster.version.split("."))
        self.shutdown_grace = ((SPOT_SHUTDOWN_GRACE_SECONDS, SPOT_SHUTDOWN_GRACE_CRITICAL_SECONDS)
                               if args.spot and version >= SPOT_SHUTDOWN_GRACE_MIN_VERSION else None)
        for index, machine_type in enumerate(args.instance_types):
            accelerators = []
            locations = None
            if args.is_gpu:
                locations = gpu_pool_zones(machine_type, cluster.location, gcp_inputs.zones) if gcp_inputs.zones else None
                kind, count = self.accelerators[machine_type]
                accelerators = [{"type": kind, "count": count,
                                 "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}]
            self.node_pools[machine_type] = gcp.container.NodePool(
                f"{name}-{machine_type}", name=node_pool_name(args.name, machine_type), project=cluster.project,
                location=cluster.location, cluster=cluster.name, initial_node_count=0, node_locations=locations,
                autoscaling={"total_min_node_count": args.min_nodes if index == 0 else 0,
                             "total_max_node_count": args.max_nodes,
                             # Spot: any zone with capacity; on-demand: spread evenly.
                             "location_policy": "ANY" if args.spot else "BALANCED"},
                management={"auto_repair": True, "auto_upgrade": True},
                upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
                node_config=cluster.node_config(
                    gcp_inputs.node_service_account, machine_type, args.root_volume_gb,
                    labels=self.node_labels, spot=args.spot, taints=gke_taints, guest_accelerators=accelerators,
                    disk_type="hyperdisk-balanced" if HYPERDISK_ONLY.match(machine_type) else "pd-balanced",
                    shutdown_grace=self.shutdown_grace),
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"name": self.name, "node_labels": self.node_labels,
                               "node_pools": {machine: pool.name for machine, pool in self.node_pools.items()}})


# --- Training job identity ---------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingJobIdentityArgs:
    cluster: "pulumi.Resource"  # components.cluster.gcp.Cluster (workload_identity())
    features_bucket: pulumi.Input[str]  # the Feast bucket's name
    # Prefixes of the Feast bucket training jobs read (offline store and registry); read-only.
    read_prefixes: Sequence[str] = (OFFLINE_PREFIX, REGISTRY_PREFIX)


def read_condition(bucket: str, prefixes: Sequence[str]) -> str:
    """CEL: objects under `prefixes`, plus the bucket itself (object listing is checked on the bucket)."""
    paths = [f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}/")' for prefix in prefixes]
    return " || ".join([f'resource.name == "projects/_/buckets/{bucket}"', *paths])


def prefix_grant(name: str, bucket: pulumi.Input[str], role: str, member: pulumi.Input[str], prefixes: Sequence[str],
                 title: str, description: str, opts: pulumi.ResourceOptions) -> gcp.storage.BucketIAMMember:
    """``role`` on ``bucket`` for objects under ``prefixes`` only (and the bucket, where listing is checked)."""
    return gcp.storage.BucketIAMMember(
        name, bucket=bucket, role=role, member=member,
        condition={"title": title, "description": description,
                   "expression": pulumi.Output.from_input(bucket).apply(lambda b: read_condition(b, prefixes))},
        opts=opts)


class TrainingJobIdentity(pulumi.ComponentResource):
    """The Google service account of training jobs (`training/trainer`): read the Feast offline store and registry.

    MLflow artifacts go through the tracking server (it proxies the artifact store) and images are
    pulled by the nodes, so this is all a training pod needs from GCP. The bucket's objects are
    encrypted by the Cloud Storage agent with the features key, so no KMS role is needed.
    """

    def __init__(self, name: str, args: TrainingJobIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:TrainingJobIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = args.cluster.workload_identity(f"{name}-trainer", TRAINING_NAMESPACE, TRAINING_SERVICE_ACCOUNT,
                                                  child, account="trainer")
        prefix_grant(f"{name}-read-features", args.features_bucket, "roles/storage.objectViewer", identity.member,
                     args.read_prefixes, "feast-offline-and-registry", "Feast offline store and registry, read-only", child)
        self.email = identity.email
        self.service_account_annotations = identity.annotations
        self.register_outputs({"email": identity.email})
