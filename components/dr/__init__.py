"""Disaster recovery: a copy of every stateful store in a second region, and the facts the failover
runbook needs to use it.

What is replicated, and how far behind it may be:

| store | replica | lag signal |
| --- | --- | --- |
| tracking database | cross-region read replica, promoted on failover | replica lag (DR region) |
| MLflow artifacts, Feast registry/offline store | object replication into versioned, encrypted buckets | replication latency per rule |
| container images | registry replication into the DR region | (pushes are rare; checked by the drill) |
| online store | multi-region table replica | (continuous; checked by the drill) |

Nothing that computes runs in the DR region (no cluster): the RTO covers bringing the platform up
there from these replicas. The DNS name the tracking server uses for its database
(``trackingDbEndpointRecord``) is repointed to the promoted replica.

Contract (every cloud's implementation exposes these outputs as attributes):

- ``region``, ``rpo_minutes``, ``rto_minutes``: what the platform promises.
- ``db_replica_id`` / ``db_replica_arn``: the database replica.
- ``artifact_replica_bucket`` / ``feature_replica_bucket``: the replica buckets.
- ``online_store_replica_region`` / ``image_replica_region``: where the online store and images
  are replicated (the DR region).
- ``outputs``: the stack's ``dr`` output dict (see ``dr_outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from components.network import flow_log_retention_days


@dataclass(frozen=True)
class DrArgs:
    """What every cloud needs to build the DR side."""

    name: str  # resource-name prefix, e.g. "mlops-prod"
    primary_region: str
    replica_region: str
    rpo_minutes: int
    rto_minutes: int
    network_cidr: str  # the DR region's (data-only) network; must not overlap the primary network
    az_count: int = 2  # the database replica's subnet group spans this many zones
    db_instance_class: Optional[str] = None  # None = same class as the primary
    performance_insights: bool = False
    deletion_protection: bool = False
    log_retention_days: int = 30
    # The DR network's flow logs: as long as the primary network's (after a failover they are the evidence).
    flow_log_retention_days: int = 30
    untagged_image_expiry_days: int = 14  # for repositories created in the DR region by replication
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.replica_region == self.primary_region:
            raise ValueError("the DR region must differ from the primary region")
        if self.rto_minutes < self.rpo_minutes:
            raise ValueError("rto_minutes must be >= rpo_minutes")

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "DrArgs":
        return cls(name=name, primary_region=cfg.region, replica_region=cfg.dr.replica_region,
                   rpo_minutes=cfg.dr.rpo_minutes, rto_minutes=cfg.dr.rto_minutes,
                   network_cidr=str(cfg.dr_network_cidr),
                   performance_insights=cfg.is_prod, deletion_protection=cfg.deletion_protection,
                   flow_log_retention_days=flow_log_retention_days(cfg),
                   untagged_image_expiry_days=cfg.registry.untagged_image_expiry_days, tags=dict(tags))


def dr_outputs(cfg, dr: Any = None) -> dict[str, Any]:
    """The stack's ``dr`` output: what the failover runbook reads. Replica fields are None when DR is off."""
    outputs: dict[str, Any] = {
        "enabled": cfg.dr.enabled, "region": cfg.dr.replica_region if cfg.dr.enabled else None,
        "rpoMinutes": cfg.dr.rpo_minutes, "rtoMinutes": cfg.dr.rto_minutes,
        "dbReplicaId": None, "dbReplicaArn": None, "artifactReplicaBucket": None, "featureReplicaBucket": None,
        "onlineStoreReplicaRegion": None, "imageReplicaRegion": None,
    }
    if dr is not None:
        outputs.update(
            dbReplicaId=dr.db_replica_id, dbReplicaArn=dr.db_replica_arn,
            artifactReplicaBucket=dr.artifact_replica_bucket, featureReplicaBucket=dr.feature_replica_bucket,
            onlineStoreReplicaRegion=dr.online_store_replica_region, imageReplicaRegion=dr.image_replica_region)
    return outputs
