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
- the Postgres subnet's NSG lets in only PostgreSQL (5432, and 6432 for PgBouncer) from the node
  subnet and traffic inside the subnet (HA standby replication), and denies the rest of the VNet;
- every managed service is reached over a private endpoint or VNet integration, resolved through
  private DNS zones linked to this VNet (``private_dns_zone_ids``): Postgres flexible server, blob,
  ACR, Key Vault and Redis.

Extra Azure outputs: ``resource_group_name``, ``vnet_name``, ``node_subnet_id``,
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

        postgres_nsg = azure.network.NetworkSecurityGroup(
            f"{name}-postgres", resource_group_name=group, location=location,
            network_security_group_name=f"{args.name}-postgres",
            security_rules=self._postgres_rules(nodes_cidr, postgres_cidr), tags=tags, opts=child)

        postgres = azure.network.Subnet(
            f"{name}-postgres", resource_group_name=group, virtual_network_name=vnet.name,
            subnet_name="postgres", address_prefix=postgres_cidr, default_outbound_access=False,
            network_security_group=azure.network.NetworkSecurityGroupArgs(id=postgres_nsg.id),
            delegations=[azure.network.DelegationArgs(name="postgres-flexible-server",
                                                      service_name="Microsoft.DBforPostgreSQL/flexibleServers")],
            opts=child)
        # Subnet writes on one VNet must not run in parallel (Azure answers AnotherOperationInProgress).
        endpoints = azure.network.Subnet(
            f"{name}-endpoints", resource_group_name=group, virtual_network_name=vnet.name,
            subnet_name="private-endpoints", address_prefix=endpoints_cidr, default_outbound_access=False,
            private_endpoint_network_policies="Enabled",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[postgres]))
        self.postgres_subnet_id = postgres.id
        self.endpoint_subnet_id = endpoints.id
        self.data_subnet_ids = [postgres.id]

        if nat_gateway is not None:
            nodes = azure.network.Subnet(
                f"{name}-nodes", resource_group_name=group, virtual_network_name=vnet.name,
                subnet_name="nodes", address_prefix=nodes_cidr, default_outbound_access=False,
                nat_gateway=azure.network.SubResourceArgs(id=nat_gateway.id),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[endpoints]))
            self.node_subnet_id = nodes.id
            self.private_subnet_ids = [nodes.id]
            # API server VNet integration: the control plane's own addresses in this VNet, so the KMS
            # plugin reaches the private vault and nodes reach the API server without a tunnel.
            apiserver = azure.network.Subnet(
                f"{name}-apiserver", resource_group_name=group, virtual_network_name=vnet.name,
                subnet_name="apiserver", address_prefix=apiserver_cidr, default_outbound_access=False,
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

    @staticmethod
    def _postgres_rules(nodes_cidr: str, postgres_cidr: str) -> list[azure.network.SecurityRuleArgs]:
        def rule(name: str, priority: int, access: str, source: str, ports: list[str], protocol: str = "Tcp"):
            return azure.network.SecurityRuleArgs(
                name=name, priority=priority, direction="Inbound", access=access, protocol=protocol,
                source_address_prefix=source, source_port_range="*", destination_address_prefix=postgres_cidr,
                **({"destination_port_ranges": ports} if ports else {"destination_port_range": "*"}))
        return [rule("allow-postgres-from-nodes", 100, "Allow", nodes_cidr, POSTGRES_PORTS),
                rule("allow-within-subnet", 110, "Allow", postgres_cidr, [], "*"),
                rule("deny-rest-of-vnet", 4000, "Deny", "VirtualNetwork", [], "*")]

