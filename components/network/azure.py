"""Azure network: a VNet with a node subnet, a Postgres-delegated data subnet and a private-endpoint
subnet, a NAT gateway for node egress, and the private DNS zones of the managed services.

Azure subnets span every zone of a region, so the contract's "one subnet per zone" lists become
one-element lists here (``private_subnet_ids`` = [nodes], ``data_subnet_ids`` = [postgres]); zone
spreading happens in the node pools and the zone-redundant services instead.

Ranges (deterministic, from ``components.network.plan_subnets``): nodes get the first private block
(a /19 of a /16: with Azure CNI overlay only nodes take VNet addresses), Postgres the first data
block, private endpoints the second and the AKS API server (VNet integration) the third.

Secure defaults and why:
- no subnet has default outbound access (Azure's implicit internet egress is being retired and
  bypasses the NAT's fixed address); nodes leave through the NAT gateway, data subnets not at all;
- every subnet has a network security group (Checkov CKV2_AZURE_31), with the rules that subnet needs:
  - postgres: only PostgreSQL (5432, and 6432 for PgBouncer) from the node subnet and traffic inside the
    subnet (HA standby replication); the rest of the VNet is denied;
  - private-endpoints (network policies on, so the NSG applies to the endpoints): only the services'
    ports (443: blob, ACR, Key Vault; 10000: Azure Managed Redis) from the VNet; the rest is denied;
  - nodes: what AKS with Azure CNI overlay needs, stated explicitly so no later deny can cut it: node to
    node, node to pod, pod to pod and the API server's subnet to nodes and pods on every port (kubelet,
    webhooks, CoreDNS, Cilium), Azure Load Balancer health probes; the internet stays denied (the
    internal load balancers serve the VNet only, through Azure's default VNet rule);
  - apiserver: the API server's port from the VNet (nodes, peered deployers) and, for a dev cluster
    with a public endpoint, from its ``publicAccessCidrs`` only; Azure Load Balancer probes;
- every managed service is reached over a private endpoint or VNet integration, resolved through
  private DNS zones linked to this VNet (``private_dns_zone_ids``): Postgres flexible server, blob,
  ACR, Key Vault and Redis.

Extra Azure outputs: ``security_group_ids[subnet]``, ``resource_group_name``, ``vnet_name``, ``node_subnet_id``,
``postgres_subnet_id``, ``endpoint_subnet_id``,
``apiserver_subnet_id``, ``private_dns_zone_ids[kind]`` and
``private_dns_zone_names[kind]`` for kind in ``PRIVATE_DNS_ZONE_KINDS``, ``nat_gateway_id``,
``endpoint_target(kind)``,
``egress_ip_address`` (the NAT's public IP: what an allow-list on the internet sees from the nodes).

Limitation (stated, not hidden): a subnet takes ONE NAT gateway and the Standard NAT gateway is
zonal, so ``nat_gateway_per_az`` cannot give per-zone egress on Azure; the NAT is left zone-less
(Azure picks its zone) and its public IP is zone-redundant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_azure_native as azure

from components.network import NetworkArgs, plan_subnets
from components.storage.azure import PrivateEndpointTarget

PRIVATE_DNS_ZONE_KINDS = ("postgres", "blob", "acr", "keyvault", "redis")
# Private Link zone names (learn.microsoft.com/azure/private-link/private-endpoint-dns). Postgres
# flexible servers with VNet integration need a zone ending in .postgres.database.azure.com.
PRIVATE_DNS_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "acr": "privatelink.azurecr.io",
    "keyvault": "privatelink.vaultcore.azure.net",
    "redis": "privatelink.redis.azure.net",  # Azure Managed Redis
}
POSTGRES_PORTS = ["5432", "6432"]
# What clients reach on the private-endpoint subnet: 443 (blob, ACR, Key Vault), 10000 (Azure Managed Redis,
# TLS only: components/features/azure.py REDIS_PORT).
ENDPOINT_PORTS = ["443", "10000"]
# AKS Azure CNI overlay: pod and service address ranges (never VNet addresses; must not overlap the VNet).
# The node subnet's NSG admits the pod range, so the network owns it and the cluster reads it from here.
POD_CIDR, SERVICE_CIDR, DNS_SERVICE_IP = "192.168.0.0/16", "172.16.0.0/16", "172.16.0.10"
# API server VNet integration: clients (nodes, kubectl in the VNet or a peer) reach the API server's internal
# load balancer on 443. 4443 (the port AKS's node-to-control-plane tunnel uses on clusters without VNet
# integration) stays open to the VNet too: which other ports an integrated API server serves is not visible
# offline, and this NSG must not cut off anything AKS needs.
APISERVER_PORTS = ["443", "4443"]
AZURE_ZONES = ("1", "2", "3")


def postgres_zone_name(name: str) -> str:
    return f"{name}.private.postgres.database.azure.com"


@dataclass(frozen=True)
class AzureNetworkInputs:
    """Azure-only inputs."""

    location: str
    resource_group_name: pulumi.Input[str]
    # DR flavour: link the primary's private DNS zones (kind -> zone name, in ``dns_zone_resource_group``)
    # instead of creating a second set, so both VNets resolve the same private endpoints.
    shared_dns_zones: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    dns_zone_resource_group: Optional[pulumi.Input[str]] = None
    # A dev cluster's public API endpoint (``cluster.publicAccessCidrs``): the API server subnet's NSG admits
    # these ranges on 443 as well (AKS checks them again with authorizedIPRanges).
    apiserver_public_cidrs: tuple[str, ...] = ()


class Network(pulumi.ComponentResource):
    """VNet, subnets, NSG, NAT gateway and private DNS zones (outputs: see components.network and above)."""

    def __init__(self, name: str, args: NetworkArgs, azure_inputs: AzureNetworkInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {**args.tags, "component": "network"}
        group = azure_inputs.resource_group_name
        location = azure_inputs.location
        plan = plan_subnets(args.cidr, max(args.az_count, 3))
        nodes_cidr, postgres_cidr, endpoints_cidr = plan.private[0], plan.data[0], plan.data[1]
        apiserver_cidr = plan.data[2] if len(plan.data) > 2 else plan.public[0]

        self.resource_group_name = group
        self.availability_zones = list(AZURE_ZONES[:args.az_count])
        self.vpc_cidr = args.cidr
        self.data_subnet_cidrs = [postgres_cidr]
        self.node_subnet_cidr = nodes_cidr

        vnet = azure.network.VirtualNetwork(
            name, resource_group_name=group, location=location, virtual_network_name=f"{args.name}-vnet",
            address_space=azure.network.AddressSpaceArgs(address_prefixes=[args.cidr]), tags=tags, opts=child)
        self.vnet = vnet
        self.vpc_id = vnet.id
        self.vnet_name = vnet.name

        self.nat_gateway_id: Optional[pulumi.Output[str]] = None
        self.egress_ip_address: Optional[pulumi.Output[str]] = None
        nat_gateway = None
        if not args.data_only:
            egress_ip = azure.network.PublicIPAddress(
                f"{name}-nat", resource_group_name=group, location=location, public_ip_address_name=f"{args.name}-nat",
                sku=azure.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
                public_ip_allocation_method="Static", public_ip_address_version="IPv4",
                zones=list(AZURE_ZONES), tags=tags, opts=child)
            nat_gateway = azure.network.NatGateway(
                name, resource_group_name=group, location=location, nat_gateway_name=f"{args.name}-nat",
                sku=azure.network.NatGatewaySkuArgs(name="Standard"), idle_timeout_in_minutes=10,
                public_ip_addresses=[azure.network.SubResourceArgs(id=egress_ip.id)], tags=tags, opts=child)
            self.nat_gateway_id = nat_gateway.id
            self.egress_ip_address = egress_ip.ip_address  # nodes' source address on the internet

        self._group, self._location, self._tags, self._name = group, location, tags, name
        self.security_group_ids: dict[str, pulumi.Output[str]] = {}
        postgres = azure.network.Subnet(
            f"{name}-postgres", resource_group_name=group, virtual_network_name=vnet.name,
            subnet_name="postgres", address_prefix=postgres_cidr, default_outbound_access=False,
            network_security_group=self._nsg("postgres", args.name, postgres_rules(nodes_cidr, postgres_cidr)),
            delegations=[azure.network.DelegationArgs(name="postgres-flexible-server",
                                                      service_name="Microsoft.DBforPostgreSQL/flexibleServers")],
            opts=child)
        # Subnet writes on one VNet must not run in parallel (Azure answers AnotherOperationInProgress).
        endpoints = azure.network.Subnet(
            f"{name}-endpoints", resource_group_name=group, virtual_network_name=vnet.name,
            subnet_name="private-endpoints", address_prefix=endpoints_cidr, default_outbound_access=False,
            private_endpoint_network_policies="Enabled",
            network_security_group=self._nsg("endpoints", args.name, endpoint_rules(endpoints_cidr)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[postgres]))
        self.postgres_subnet_id = postgres.id
        self.endpoint_subnet_id = endpoints.id
        self.data_subnet_ids = [postgres.id]

        if nat_gateway is not None:
            nodes = azure.network.Subnet(
                f"{name}-nodes", resource_group_name=group, virtual_network_name=vnet.name,
                subnet_name="nodes", address_prefix=nodes_cidr, default_outbound_access=False,
                nat_gateway=azure.network.SubResourceArgs(id=nat_gateway.id),
                network_security_group=self._nsg("nodes", args.name, node_rules(nodes_cidr, apiserver_cidr)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoints]))
            self.node_subnet_id = nodes.id
            self.private_subnet_ids = [nodes.id]
            # API server VNet integration: the control plane's own addresses in this VNet, so the KMS
            # plugin reaches the private vault and nodes reach the API server without a tunnel.
            apiserver = azure.network.Subnet(
                f"{name}-apiserver", resource_group_name=group, virtual_network_name=vnet.name,
                subnet_name="apiserver", address_prefix=apiserver_cidr, default_outbound_access=False,
                network_security_group=self._nsg("apiserver", args.name, apiserver_rules(
                    apiserver_cidr, azure_inputs.apiserver_public_cidrs)),
                delegations=[azure.network.DelegationArgs(name="aks-apiserver",
                                                          service_name="Microsoft.ContainerService/managedClusters")],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[nodes]))
            self.apiserver_subnet_id = apiserver.id
        else:
            self.node_subnet_id = None
            self.apiserver_subnet_id = None
            self.private_subnet_ids = []
        self.public_subnet_ids: list = []  # NAT gateways and internal load balancers need no public subnet

        self.private_dns_zone_names: dict[str, pulumi.Input[str]] = {}
        self.private_dns_zone_ids: dict[str, pulumi.Input[str]] = {}
        if azure_inputs.shared_dns_zones:
            for kind, zone_name in azure_inputs.shared_dns_zones.items():
                self._link(name, kind, azure_inputs.dns_zone_resource_group or group, zone_name, vnet, tags)
                self.private_dns_zone_names[kind] = zone_name
        else:
            for kind in PRIVATE_DNS_ZONE_KINDS:
                zone_name = postgres_zone_name(args.name) if kind == "postgres" else PRIVATE_DNS_ZONES[kind]
                zone = azure.privatedns.PrivateZone(f"{name}-{kind}", resource_group_name=group, location="global",
                                                    private_zone_name=zone_name, tags=tags, opts=child)
                self._link(name, kind, group, zone.name, vnet, tags)
                self.private_dns_zone_names[kind] = zone.name
                self.private_dns_zone_ids[kind] = zone.id

        self.register_outputs({"vpc_id": self.vpc_id, "private_subnet_ids": self.private_subnet_ids,
                               "data_subnet_ids": self.data_subnet_ids, "endpoint_subnet_id": self.endpoint_subnet_id,
                               "private_dns_zone_ids": self.private_dns_zone_ids})

    def endpoint_target(self, kind: str) -> PrivateEndpointTarget:
        """Where a `kind` service's private endpoint goes (the endpoint subnet, its private DNS zone)."""
        return PrivateEndpointTarget(self.endpoint_subnet_id, self.private_dns_zone_ids[kind])

    def _link(self, name: str, kind: str, group: pulumi.Input[str], zone_name: pulumi.Input[str],
              vnet: azure.network.VirtualNetwork, tags: Mapping[str, str]) -> None:
        azure.privatedns.VirtualNetworkLink(
            f"{name}-{kind}", resource_group_name=group, private_zone_name=zone_name, location="global",
            virtual_network_link_name=vnet.name, registration_enabled=False,
            virtual_network=azure.privatedns.SubResourceArgs(id=vnet.id), tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self))

    def _nsg(self, subnet: str, platform: str, rules: list) -> azure.network.NetworkSecurityGroupArgs:
        """The subnet's own NSG (``<platform>-<subnet>``), as the reference its Subnet takes."""
        nsg = azure.network.NetworkSecurityGroup(
            f"{self._name}-{subnet}", resource_group_name=self._group, location=self._location,
            network_security_group_name=f"{platform}-{subnet}", security_rules=rules, tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self))
        self.security_group_ids[subnet] = nsg.id
        return azure.network.NetworkSecurityGroupArgs(id=nsg.id)


def _rule(name: str, priority: int, access: str, sources: list[str], destination: str, ports: list[str],
          protocol: str = "Tcp", direction: str = "Inbound") -> azure.network.SecurityRuleArgs:
    """One NSG rule; an empty ``ports`` list means every port."""
    return azure.network.SecurityRuleArgs(
        name=name, priority=priority, direction=direction, access=access, protocol=protocol, source_port_range="*",
        **({"source_address_prefix": sources[0]} if len(sources) == 1 else {"source_address_prefixes": sources}),
        destination_address_prefix=destination,
        **({"destination_port_ranges": ports} if ports else {"destination_port_range": "*"}))


def postgres_rules(nodes_cidr: str, postgres_cidr: str) -> list[azure.network.SecurityRuleArgs]:
    return [_rule("allow-postgres-from-nodes", 100, "Allow", [nodes_cidr], postgres_cidr, POSTGRES_PORTS),
            _rule("allow-within-subnet", 110, "Allow", [postgres_cidr], postgres_cidr, [], "*"),
            _rule("deny-rest-of-vnet", 4000, "Deny", ["VirtualNetwork"], "*", [], "*")]


def endpoint_rules(endpoints_cidr: str) -> list[azure.network.SecurityRuleArgs]:
    """Private endpoints answer only on their services' ports, to the VNet (and its peers)."""
    return [_rule("allow-services-from-vnet", 100, "Allow", ["VirtualNetwork"], endpoints_cidr, ENDPOINT_PORTS),
            _rule("deny-rest-of-vnet", 4000, "Deny", ["VirtualNetwork"], "*", [], "*")]


def node_rules(nodes_cidr: str, apiserver_cidr: str) -> list[azure.network.SecurityRuleArgs]:
    """AKS with Azure CNI overlay: pod traffic is not encapsulated, so the subnet NSG sees pod addresses
    (outside the VNet's service tag); node<->node, node<->pod, pod<->pod and API server->node/pod traffic
    is admitted on every port and protocol (AKS's documented requirement for NSGs with overlay), and
    pod-addressed replies may leave. Azure Load Balancer probes, VNet clients of the internal load
    balancers and the internet's denial come from Azure's default rules (65000-65500)."""
    cluster = [nodes_cidr, POD_CIDR]
    return [_rule("allow-cluster-inbound", 100, "Allow", [*cluster, apiserver_cidr], "*", [], "*"),
            _rule("allow-azure-load-balancer", 110, "Allow", ["AzureLoadBalancer"], "*", [], "*"),
            _rule("allow-cluster-outbound", 100, "Allow", cluster, POD_CIDR, [], "*", "Outbound")]


def apiserver_rules(apiserver_cidr: str, public_cidrs: tuple[str, ...] = ()) -> list[azure.network.SecurityRuleArgs]:
    """The API server's internal load balancer: its ports from the VNet, from a dev cluster's public
    ranges (``publicAccessCidrs``) when it has a public endpoint, and Azure Load Balancer probes; the
    internet is denied by Azure's default rule."""
    rules = [_rule("allow-apiserver-from-vnet", 100, "Allow", ["VirtualNetwork"], apiserver_cidr, APISERVER_PORTS),
             _rule("allow-azure-load-balancer", 110, "Allow", ["AzureLoadBalancer"], apiserver_cidr, [], "*")]
    if public_cidrs:
        rules.append(_rule("allow-apiserver-from-public-cidrs", 120, "Allow", sorted(public_cidrs), apiserver_cidr, ["443"]))
    return rules
