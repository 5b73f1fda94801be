"""GCP network: a custom-mode VPC, one regional subnet with GKE secondary ranges, Cloud NAT, private services access.

Decisions and why:
- GCP subnets are regional (they span every zone of the region), so there is one node subnet, not
  one per zone; ``private_subnet_ids`` holds that one subnet and ``availability_zones`` the zones
  the cluster spreads over. The pods and services ranges are secondary ranges of it (VPC-native
  GKE: pod IPs are VPC addresses, routable to Cloud SQL and Memorystore without NAT).
- No public subnets: nodes have no external IPs; egress to the internet (image registries outside
  Google) goes through Cloud NAT, Google APIs through Private Google Access on the subnet.
- Cloud NAT is a distributed, regional service with no per-zone gateway to lose, so
  ``nat_gateway_per_az`` has nothing to choose between on GCP.
- Managed data stores (Cloud SQL, Memorystore) live in Google's producer network, reached through
  private services access: a reserved range of this VPC peered with ``servicenetworking``. That
  range is the platform's "data subnet" (``data_subnet_cidrs``): database clients' egress rules
  allow exactly it. The VPC is global, so a DR-region replica uses the same range and needs no
  second network.
- VPC flow logs on the subnet go to Cloud Logging (the ``_Default`` bucket keeps them 30 days,
  encrypted by Google; route them to a CMEK bucket with a log sink to keep them longer).
- Firewall: GKE creates the rules the cluster itself needs (control plane to kubelets, pod to
  pod); this component adds a logged lowest-priority deny-all for ingress (the implied rule
  is not logged) and lets Google's health-check ranges reach the nodes, which internal load
  balancers need. Nothing is opened to the internet.

Range plan (deterministic, from ``mlops:network.cidr``; for a /16): pods = first half (/17,
64 pods a node = a /25 each, up to 256 nodes), nodes = a /20 and services = a /20 in the third
quarter, the GKE control plane's /28 right after them, private services access = the last quarter (/18).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.network import NetworkArgs

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
MAX_PODS_PER_NODE = 64
# Google Cloud load-balancer health-check sources (documented in "Firewall rules for health checks").
HEALTH_CHECK_RANGES = ["35.191.0.0/16", "130.211.0.0/22"]


@dataclass(frozen=True)
class GcpRanges:
    nodes: str
    pods: str
    services: str
    control_plane: str  # /28 for the GKE private control plane's peering
    private_services: str  # reserved for Cloud SQL and Memorystore (private services access)


def plan_gcp_ranges(cidr: str) -> GcpRanges:
    """Carve `cidr` into the GKE and private-services ranges (see module docstring)."""
    network = ipaddress.IPv4Network(cidr)
    halves = list(network.subnets(prefixlen_diff=1))
    quarters = list(network.subnets(prefixlen_diff=2))
    third = list(quarters[2].subnets(prefixlen_diff=2))
    return GcpRanges(nodes=str(third[0]), pods=str(halves[0]), services=str(third[1]),
                     control_plane=str(next(third[2].subnets(new_prefix=28))), private_services=str(quarters[3]))


@dataclass(frozen=True)
class GcpNetworkInputs:
    """GCP-only inputs: the project and region the subnet, router and NAT live in."""

    project: pulumi.Input[str]
    region: str
    zones: pulumi.Input[Sequence[str]]  # the zones the cluster uses (regional subnet; kept as availability_zones)
    apis: Sequence[pulumi.Resource] = ()  # enabled APIs (compute, servicenetworking) the VPC waits for


class Network(pulumi.ComponentResource):
    """The platform's VPC on GCP (outputs: see components.network; GCP extras below).

    GCP extras: ``network_name``, ``subnet_name``, ``pods_range_name``, ``services_range_name``,
    ``control_plane_cidr``, ``private_services_connection`` (resources using private IP —
    Cloud SQL, Memorystore — must depend on it), ``ranges`` (GcpRanges).
    """

    def __init__(self, name: str, args: NetworkArgs, gcp_inputs: GcpNetworkInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        ranges = plan_gcp_ranges(args.cidr)
        self.ranges = ranges
        project, region = gcp_inputs.project, gcp_inputs.region

        vpc = gcp.compute.Network(
            f"{name}-vpc", name=args.name, project=project, auto_create_subnetworks=False,
            routing_mode="REGIONAL", delete_default_routes_on_create=False,
            description=f"mlops platform network of {args.name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(gcp_inputs.apis)))
        subnet = gcp.compute.Subnetwork(
            f"{name}-nodes", name=f"{args.name}-nodes", project=project, region=region, network=vpc.id,
            ip_cidr_range=ranges.nodes, private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=ranges.pods),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE, ip_cidr_range=ranges.services),
            ],
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"),
            opts=child)

        router = gcp.compute.Router(f"{name}-router", name=f"{args.name}-router", project=project, region=region,
                                    network=vpc.id, opts=child)
        gcp.compute.RouterNat(
            f"{name}-nat", name=f"{args.name}-nat", project=project, region=region, router=router.name,
            nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[gcp.compute.RouterNatSubnetworkArgs(name=subnet.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])],
            enable_endpoint_independent_mapping=False, enable_dynamic_port_allocation=True, min_ports_per_vm=64,
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"), opts=child)

        private_range = ipaddress.IPv4Network(ranges.private_services)
        reserved = gcp.compute.GlobalAddress(
            f"{name}-private-services", name=f"{args.name}-private-services", project=project, network=vpc.id,
            purpose="VPC_PEERING", address_type="INTERNAL", address=str(private_range.network_address),
            prefix_length=private_range.prefixlen,
            description="private services access: Cloud SQL and Memorystore addresses", opts=child)
        connection = gcp.servicenetworking.Connection(
            f"{name}-private-services", network=vpc.id, service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[reserved.name], opts=child)

        log = gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")
        gcp.compute.Firewall(
            f"{name}-deny-ingress", name=f"{args.name}-deny-all-ingress", project=project, network=vpc.id,
            direction="INGRESS", priority=65534, source_ranges=["0.0.0.0/0"],
            denies=[gcp.compute.FirewallDenyArgs(protocol="all")], log_config=log,
            description="Deny (and log) every ingress not allowed by a higher-priority rule", opts=child)
        gcp.compute.Firewall(
            f"{name}-health-checks", name=f"{args.name}-allow-health-checks", project=project, network=vpc.id,
            direction="INGRESS", priority=1000, source_ranges=HEALTH_CHECK_RANGES, target_tags=[node_tag(args.name)],
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp")], log_config=log,
            description="Google load-balancer health checks to the cluster nodes (internal load balancers)", opts=child)

        self.vpc_id = vpc.id
        self.network_self_link = vpc.self_link
        self.network_name = vpc.name
        self.vpc_cidr = args.cidr
        self.availability_zones = gcp_inputs.zones
        self.private_subnet_ids = [subnet.id]
        self.subnet_name = subnet.name
        self.data_subnet_ids: list[pulumi.Output[str]] = []  # no subnet: Google's producer network, see data_subnet_cidrs
        self.data_subnet_cidrs = [ranges.private_services]
        self.public_subnet_ids: list[pulumi.Output[str]] = []
        self.pods_range_name = PODS_RANGE
        self.services_range_name = SERVICES_RANGE
        self.control_plane_cidr = ranges.control_plane
        self.private_services_connection = connection
        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
                               "data_subnet_cidrs": self.data_subnet_cidrs})


def node_tag(platform_name: str) -> str:
    """The network tag every node of the platform carries (firewall rules target it)."""
    return f"{platform_name}-node"
