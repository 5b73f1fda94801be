"""Training node pools: spot/preemptible capacity that scales to zero, CPU and GPU.

Contract (every cloud's implementation exposes these outputs per pool):

- ``name``: the pool name (``mlops:trainingPools[].name``).
- ``node_labels``: labels every node of the pool carries (dict[str, str], see below).
- ``taints``: taints every node carries (list of ``Taint``); training pods tolerate them.

Labels and taints are the same on every cloud (the in-cluster workloads and users' training
jobs select on them; names from ``components.k8s``):

- ``mlops.dev/pool=<name>``, ``mlops.dev/capacity-type=spot|on-demand``;
- GPU pools: ``mlops.dev/accelerator=nvidia-gpu`` and taint ``nvidia.com/gpu=true:NoSchedule``;
- spot pools: taint ``mlops.dev/capacity-type=spot:NoSchedule``, so only workloads that accept
  interruptions (training jobs that checkpoint) land on spot capacity.

A training job asks for a pool with a node selector on ``mlops.dev/pool`` and tolerations for
the pool's taints, e.g. for a GPU spot pool::

    nodeSelector: {mlops.dev/pool: gpu-spot}
    tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
      - {key: mlops.dev/capacity-type, operator: Equal, value: spot, effect: NoSchedule}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

from components.k8s import ACCELERATOR_LABEL, CAPACITY_TYPE_LABEL, GPU_ACCELERATOR, GPU_TAINT_KEY, POOL_LABEL

SPOT_TAINT_KEY = CAPACITY_TYPE_LABEL


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class TrainingPoolArgs:
    """What every cloud needs for one training pool (one ``mlops:trainingPools`` entry)."""

    name: str
    instance_types: Sequence[str]
    max_nodes: int
    accelerator: str = "none"  # none | nvidia-gpu
    spot: bool = True
    min_nodes: int = 0
    # Root volume per node: GPU images (CUDA, frameworks) and datasets staged on local disk need room.
    disk_gb: int = 0  # 0 = default for the pool kind (100 CPU, 200 GPU)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_gpu(self) -> bool:
        return self.accelerator == GPU_ACCELERATOR

    @property
    def root_volume_gb(self) -> int:
        return self.disk_gb or (200 if self.is_gpu else 100)

    @classmethod
    def from_config(cls, pool, tags: Mapping[str, str]) -> "TrainingPoolArgs":
        """From one `mlops:trainingPools` entry (stacks.config_models.TrainingPool)."""
        return cls(name=pool.name, instance_types=tuple(pool.instance_types), max_nodes=pool.max_nodes,
                   accelerator=pool.accelerator, spot=pool.spot, min_nodes=pool.min_nodes, tags=dict(tags))


def node_labels(args: TrainingPoolArgs) -> dict[str, str]:
    labels = {POOL_LABEL: args.name, CAPACITY_TYPE_LABEL: "spot" if args.spot else "on-demand"}
    if args.is_gpu:
        labels[ACCELERATOR_LABEL] = GPU_ACCELERATOR
    return labels


def node_taints(args: TrainingPoolArgs) -> list[Taint]:
    taints = []
    if args.is_gpu:
        taints.append(Taint(GPU_TAINT_KEY, "true"))
    if args.spot:
        taints.append(Taint(SPOT_TAINT_KEY, "spot"))
    return taints


def zones_offering(instance_type: str, region: str, cluster_zones: Sequence[str],
                   offers: Mapping[str, Mapping[str, Sequence[str]]]) -> Optional[list[str]]:
    """The cluster zones that offer ``instance_type``: GPU sizes are not offered in every zone, and a pool
    that inherits a zone without them fails to scale there (or to be created at all).

    ``offers`` maps an instance-type prefix (a machine series) to region -> zones, from the cloud's
    published availability. None: no row for the type or the region, so it cannot be placed (the caller
    says so). An empty list: the region has the series but none of the cluster's zones do.
    """
    prefixes = [prefix for prefix in offers if instance_type.startswith(prefix)]
    if not prefixes:
        return None
    by_region = offers[max(prefixes, key=len)]
    if region not in by_region:
        return None
    offered = set(by_region[region])
    return [zone for zone in cluster_zones if zone in offered]
