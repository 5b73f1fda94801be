"""The platform's private network: subnets per availability zone, egress, private service endpoints.

Contract (every cloud's implementation exposes these outputs as attributes):

- ``vpc_id``: the network's id (AWS VPC id, Azure VNet id, GCP network self link).
- ``vpc_cidr``: its address range (str, known at preview).
- ``availability_zones``: the zones used, in subnet order (list[str]).
- ``private_subnet_ids``: one per zone, for cluster nodes and pods (no public IPs, egress via NAT).
- ``data_subnet_ids``: one per zone, for managed data stores (databases, caches); no route to
  the internet at all. ``data_subnet_cidrs``: their ranges (list[str], known at preview).
- ``public_subnet_ids``: one per zone, only for internet-facing load balancers and NAT gateways.

Subnet sizing (the range is carved deterministically, so plans are stable): the first 3/4 of the
range holds one private subnet per zone (prefix + 3, e.g. /19 of a /16: nodes and pods use
VPC addresses), the last 1/4 is cut into prefix + 6 blocks for data (blocks 0-5) and public
(blocks 8-13) subnets. Up to 6 zones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Mapping, Optional

MAX_ZONES = 6


@dataclass(frozen=True)
class NetworkArgs:
    """What every cloud needs to build the network."""

    name: str  # resource-name prefix, e.g. "mlops-dev"
    cidr: str  # e.g. "10.40.0.0/16" (private, /20 or larger; the config model checks it)
    az_count: int  # zones to spread subnets over (2 in dev, 3+ in prod)
    nat_gateway_per_az: bool  # one NAT per zone (no single point of egress failure) or one shared
    flow_log_retention_days: int = 30
    # DR flavour: only the VPC, its data subnets (no internet route) and flow logs; no public or
    # private subnets, NAT or endpoints. Where replicas of the data stores wait for a failover.
    data_only: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "NetworkArgs":
        return cls(name=name, cidr=str(cfg.network.cidr), az_count=cfg.az_count,
                   nat_gateway_per_az=cfg.nat_gateway_per_az, flow_log_retention_days=flow_log_retention_days(cfg),
                   tags=dict(tags))


def flow_log_retention_days(cfg) -> int:
    """Flow-log retention for the stack's networks: the primary's and the DR region's are the same."""
    return 30 if cfg.environment == "dev" else 365


@dataclass(frozen=True)
class SubnetPlan:
    """The carved subnet ranges, per zone index."""

    private: tuple[str, ...]
    data: tuple[str, ...]
    public: tuple[str, ...]


def plan_subnets(cidr: str, zones: int) -> SubnetPlan:
    """Split `cidr` into private/data/public subnets for `zones` zones (see module docstring)."""
    if not 1 <= zones <= MAX_ZONES:
        raise ValueError(f"zones must be between 1 and {MAX_ZONES}, got {zones}")
    network = ipaddress.IPv4Network(cidr)
    private = list(network.subnets(prefixlen_diff=3))[:zones]
    last_quarter = list(network.subnets(prefixlen_diff=2))[3]
    small = list(last_quarter.subnets(prefixlen_diff=4))
    return SubnetPlan(
        private=tuple(str(s) for s in private),
        data=tuple(str(s) for s in small[:zones]),
        public=tuple(str(s) for s in small[8:8 + zones]),
    )


def pick_zones(available: list[str], count: int, exclude: Optional[set[str]] = None) -> list[str]:
    """The first `count` zones in name order (stable across runs), or a clear error if too few."""
    names = sorted(z for z in available if not exclude or z not in exclude)
    if len(names) < count:
        raise ValueError(f"the region offers {len(names)} availability zones ({', '.join(names)}); {count} requested")
    return names[:count]
