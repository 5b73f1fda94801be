"""Azure training pools: AKS spot node pools that scale to zero, CPU and GPU.

One ``mlops:trainingPools`` entry becomes one AKS node pool PER VM SIZE: an AKS pool has exactly one
VM size, and several sizes are what keeps training going when one spot market runs dry. Every size
pool carries the same labels (``mlops.dev/pool=<name>``...), so a job's node selector matches all of
them and the cluster autoscaler grows whichever size has capacity. ``maxNodes`` (and ``minNodes``) are
split across the sizes, so the pool as a whole never exceeds what the stack file says; with fewer
``maxNodes`` than sizes, only the first ``maxNodes`` sizes get a pool.

Each size pool: Spot priority, eviction policy Delete (an evicted VM's disk is not kept and billed),
spot max price -1 (pay up to the on-demand price, never evicted for price), autoscaling between the
split min and max (min 0 = scale to zero), Azure Linux, managed OS disk encrypted with the cluster's
disk encryption set (set on the cluster, inherited by every pool), the node subnet, no public IPs.
Encryption at host on (temp disk and disk caches encrypted on the VM host, as on every AKS pool here).
CPU pools spread over the network's zones; GPU pools are left regional, because NC/ND sizes are
not offered in every zone and a zonal pool fails where they are missing.

Labels and taints (``components.training``): ``mlops.dev/pool``, ``mlops.dev/capacity-type``,
``mlops.dev/accelerator``; taints ``nvidia.com/gpu=true:NoSchedule`` (GPU) and
``mlops.dev/capacity-type=spot:NoSchedule``. AKS adds ``kubernetes.azure.com/scalesetpriority=spot:
NoSchedule`` to every spot pool itself; ``taints`` lists it too, because jobs must tolerate it.
GPU pools let AKS install the NVIDIA driver; the device plugin and DCGM exporter come from
``components.k8s`` (GpuNodeAgents).

Interruptions: Azure evicts a spot VM with a 30-second Scheduled Events (``Preempt``) notice and AKS
deletes the node. Nothing in the cluster can save a training step in 30 seconds, so the platform does
not pretend to: training pods run with ``priorityClassName: training-preemptible`` (ClusterBaseline),
so they never displace platform services; the platform's own services run on the on-demand ``platform``
pool (with PodDisruptionBudgets), never on spot; and training jobs are expected to checkpoint to the
artifact store (MLflow) every few minutes and to run as Jobs with ``backoffLimit`` > 0, so the
evicted pod is recreated, the autoscaler brings a node of any size with capacity, and the job
resumes from its last checkpoint. The "spot interruptions" dashboard shows spot node counts per pool.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_azure_native as azure

from components.training import Taint, TrainingPoolArgs, node_labels, node_taints

AKS_SPOT_TAINT = Taint("kubernetes.azure.com/scalesetpriority", "spot")
MAX_PODS = 110


@dataclass(frozen=True)
class AzureTrainingPoolInputs:
    """Azure-only inputs (from the cluster and network components)."""

    resource_group_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    node_subnet_id: pulumi.Input[str]
    availability_zones: Sequence[str]
    kubernetes_version: Optional[str] = None
    # AKS runs one operation per cluster at a time: the first size pool waits for these (e.g. the
    # previous training pool's ``last_agent_pool``).
    after: Sequence[pulumi.Resource] = ()


def agent_pool_name(pool: str, index: int) -> str:
    """AKS pool names: lowercase letters and digits, at most 12 (Linux), starting with a letter.
    A 3-hex hash of the full name keeps pools whose names share a prefix apart."""
    letters = re.sub(r"[^a-z0-9]", "", pool.lower())[:7] or "pool"
    return f"{letters}{hashlib.sha256(pool.encode()).hexdigest()[:3]}{index}"[:12]


def split_nodes(total: int, parts: int) -> list[int]:
    """`total` nodes over `parts` pools, the first pools taking the remainder (sum == total)."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


class TrainingPool(pulumi.ComponentResource):
    """One training pool: an AKS node pool per VM size (outputs: ``name``, ``node_labels``, ``taints``,
    ``agent_pools`` {size: AgentPool}, ``last_agent_pool`` for the next pool to wait for)."""

    def __init__(self, name: str, args: TrainingPoolArgs, azure_inputs: AzureTrainingPoolInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:training:TrainingPool", name, None, opts)
        labels = node_labels(args)
        taints = node_taints(args)
        self.name = args.name
        self.node_labels = labels
        self.taints = [*taints, AKS_SPOT_TAINT] if args.spot else taints

        sizes = list(args.instance_types)[:max(1, args.max_nodes)]
        maxima, minima = split_nodes(args.max_nodes, len(sizes)), split_nodes(args.min_nodes, len(sizes))
        spot = {"scale_set_priority": "Spot", "scale_set_eviction_policy": "Delete", "spot_max_price": -1} \
            if args.spot else {"scale_set_priority": "Regular"}
        self.agent_pools: dict[str, azure.containerservice.AgentPool] = {}
        previous: Optional[azure.containerservice.AgentPool] = None
        after = list(azure_inputs.after)
        for index, size in enumerate(sizes):
            pool = azure.containerservice.AgentPool(
                f"{name}-{index}", resource_group_name=azure_inputs.resource_group_name,
                resource_name_=azure_inputs.cluster_name, agent_pool_name=agent_pool_name(args.name, index),
                mode="User", type="VirtualMachineScaleSets", vm_size=size, os_type="Linux", os_sku="AzureLinux",
                orchestrator_version=azure_inputs.kubernetes_version,
                enable_auto_scaling=True, min_count=minima[index], max_count=maxima[index], count=minima[index],
                availability_zones=None if args.is_gpu else list(azure_inputs.availability_zones),
                vnet_subnet_id=azure_inputs.node_subnet_id, enable_node_public_ip=False,
                # Temp disk and disk caches encrypted on the host too (components/cluster/azure.py: needs the
                # subscription feature Microsoft.Compute/EncryptionAtHost and a size that supports it).
                enable_encryption_at_host=True, os_disk_type="Managed", os_disk_size_gb=args.root_volume_gb, max_pods=MAX_PODS,
                node_labels=labels, node_taints=[f"{t.key}={t.value}:{t.effect}" for t in taints],
                gpu_profile=azure.containerservice.GPUProfileArgs(driver="Install") if args.is_gpu else None,
                tags={**args.tags, "component": "training", "training-pool": args.name}, **spot,
                # The autoscaler owns the node count; AKS refuses parallel operations on one cluster.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"],
                                            depends_on=[previous] if previous else after or None))
            self.agent_pools[size] = pool
            previous = pool
        self.last_agent_pool = previous
        self.register_outputs({"name": self.name, "node_labels": self.node_labels,
                               "agent_pools": {size: pool.name for size, pool in self.agent_pools.items()}})
