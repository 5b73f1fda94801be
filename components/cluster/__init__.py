"""Managed Kubernetes for the platform: private API, encrypted secrets, workload identity.

Contract (every cloud's implementation exposes these outputs as attributes):

- ``name``: the cluster name (Output[str]; on AWS it is fixed at preview from ``ClusterArgs.name``).
- ``endpoint``: the API server URL (Output[str]).
- ``kubeconfig``: a kubeconfig for the deployer (secret Output[str]; exec auth, no static token).
- ``k8s_provider``: a ``pulumi_kubernetes.Provider`` bound to this cluster; every in-cluster
  resource is created with it.
- ``node_security_group_id`` / ``cluster_security_group_id``: what data stores allow traffic from
  (AWS: the EKS cluster security group every node, managed or Karpenter, carries).
- ``storage_class``: name of the default encrypted block storage class.

Workload identity (AWS: IRSA) outputs:
- ``oidc_provider_arn``: the IAM OIDC provider of the cluster.
- ``oidc_issuer``: issuer host/path WITHOUT ``https://`` (the prefix of IAM condition keys,
  e.g. ``oidc.eks.us-east-1.amazonaws.com/id/ABC...``).
- ``node_role_arn``: the system node group's role.
- AWS only: ``system_node_group_asg_name`` (the system node group's Auto Scaling group, for alarms).
- ``irsa_role(name, namespace, service_account, policy_json, opts)``: creates an IAM role that only
  ``system:serviceaccount:<namespace>:<service_account>`` can assume through the cluster's OIDC
  provider (``StringEquals`` on ``<issuer>:sub`` and ``<issuer>:aud`` = ``sts.amazonaws.com``),
  with ``policy_json`` as its inline policy. Pass ``opts`` with your own component as parent.
  Annotate the ServiceAccount with ``eks.amazonaws.com/role-arn: <role.arn>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class ClusterArgs:
    """What every cloud needs to create the cluster."""

    name: str  # the cluster name, e.g. "mlops-dev" (also the prefix of its child resources)
    version: str  # Kubernetes minor version, e.g. "1.33"
    system_node_instance_type: str
    system_node_count: int  # on-demand nodes for system workloads (CoreDNS, Karpenter, controllers)
    # Public API endpoint source ranges; empty = private endpoint only (the config model allows
    # non-empty in dev only).
    public_access_cidrs: tuple[str, ...] = ()
    log_retention_days: int = 30
    system_node_disk_gb: int = 50
    deletion_protection: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "ClusterArgs":
        return cls(name=name, version=cfg.cluster.version,
                   system_node_instance_type=cfg.system_node_instance_type,
                   system_node_count=cfg.cluster.system_node_count,
                   public_access_cidrs=tuple(str(cidr) for cidr in cfg.cluster.public_access_cidrs),
                   log_retention_days=30 if cfg.environment == "dev" else 365,
                   deletion_protection=cfg.deletion_protection, tags=dict(tags))
