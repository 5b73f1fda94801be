"""Customer-managed encryption keys, one per data domain, with twins in the DR region.

Contract (every cloud's implementation exposes the same outputs):

- ``keys[domain]``: the primary key of each domain in ``DOMAINS`` (also as attributes:
  ``.artifacts``, ``.database``, ``.cluster``, ``.features``, ``.notifications``).
- ``key_arns[domain]``: the key's identifier other resources pass to their encryption settings
  (AWS: the key ARN, which is what S3/RDS/EKS/DynamoDB/SNS/SQS/Logs store; Azure/GCP: the key id).
- ``dr_replicas[domain]``: the DR-region twin of each key when ``dr_enabled`` (empty otherwise),
  and ``dr_key_arns[domain]`` likewise.

Why one key per domain: revoking or auditing one data store's key must not touch the others,
and each key policy names only the services that domain's data lives in.

Which data each domain protects:

| domain | data |
| --- | --- |
| artifacts | MLflow artifact bucket, container images (ECR), their DR replicas |
| database | tracking database storage, its managed master-password secret, performance insights |
| cluster | Kubernetes secrets (envelope encryption), node root volumes, persistent volumes (EBS) |
| features | Feast registry/offline store bucket, online store table |
| notifications | alert topic, interruption queue, log groups (flow logs, control-plane logs) |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

DOMAINS: tuple[str, ...] = ("artifacts", "database", "cluster", "features", "notifications")


@dataclass(frozen=True)
class KeysArgs:
    """What every cloud needs to create the platform's keys."""

    name: str  # resource-name prefix, e.g. "mlops-dev"
    tags: Mapping[str, str] = field(default_factory=dict)
    dr_enabled: bool = False
    # Days a deleted key stays recoverable (7-30 on AWS); prod keeps the maximum.
    deletion_window_days: int = 30
    protect: bool = False  # Pulumi `protect` on every key (prod: cfg.deletion_protection)

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "KeysArgs":
        return cls(name=name, tags=dict(tags), dr_enabled=cfg.dr.enabled,
                   deletion_window_days=7 if cfg.environment == "dev" else 30, protect=cfg.deletion_protection)
