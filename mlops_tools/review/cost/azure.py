"""Azure: which plan resources are billed and which snapshot price (Azure Retail Prices meter) each charge uses.

Keys are `<armRegionName>/<service>/<item>`; a resource's region is its `location` input (the stacks set it on
every regional resource). The API client (api/azure.py) maps each key to a Retail Prices $filter.
"""

from __future__ import annotations

import re
from typing import Any

from mlops_tools.review.cost import usage
from mlops_tools.review.cost.model import HOURS_PER_MONTH, Charge, hourly, monthly, scenarios

CLOUD = "azure"
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
# Premium SSD managed-disk tiers (GiB -> tier); disks bill by the tier their size rounds up to.
DISK_TIERS = ((4, "P1"), (8, "P2"), (16, "P3"), (32, "P4"), (64, "P6"), (128, "P10"), (256, "P15"), (512, "P20"),
              (1024, "P30"), (2048, "P40"), (4096, "P50"))


def default_region(ctx) -> str:
    for resource in ctx.of_type("azure-native:containerservice:ManagedCluster") + ctx.of_type("azure-native:resources:ResourceGroup"):
        if resource["inputs"].get("location"):
            return resource["inputs"]["location"]
    return "westeurope"


def region(resource: dict[str, Any], ctx) -> str:
    location = resource["inputs"].get("location")
    return location if location and location != "global" else default_region(ctx)


def vm_key(reg: str, size: str, priority: str) -> str:
    return f"{reg}/vm/{size}/{priority}"


def disk_tier(gb: float) -> str:
    return next((tier for limit, tier in DISK_TIERS if gb <= limit), "P60")


def block_storage(reg: str, gb: float, what: str) -> Charge:
    tier = disk_tier(gb)
    return monthly(what, f"{reg}/managed-disk/premium-ssd-lrs/{tier}", 1, f"one Premium SSD {tier} disk ({gb:g} GiB rounds up to {tier})")


def load_balancer_hour(reg: str) -> Charge:
    return hourly("standard load balancer", f"{reg}/load-balancer/standard-first-5-rules-hour", 1, "one load balancer, up to 5 rules, 730 h")


def pool_charges(reg: str, pool: dict[str, Any], nodes: dict[str, float], ctx) -> tuple[list[Charge], dict[str, Any]]:
    """An AKS pool (agent pool resource or a cluster's agentPoolProfiles entry): VM hours and managed OS disks."""
    size, spot = pool.get("vmSize", ""), pool.get("scaleSetPriority") == "Spot"
    priority = "spot" if spot else "on-demand"
    charges = [hourly(f"{size} {priority} node-hours", vm_key(reg, size, priority), nodes,
                      f"{nodes['idle']:g} node(s) idle (minimum), {nodes['expected']:g} expected, {nodes['max']:g} at maximum, 730 h")]
    if pool.get("osDiskType", "Managed") != "Ephemeral":  # ephemeral OS disks live on the VM's cache: no disk charge
        disk_gb = float(pool.get("osDiskSizeGB", 128))
        charges.append(monthly("OS disks", f"{reg}/managed-disk/premium-ssd-lrs/{disk_tier(disk_gb)}", nodes,
                               f"one {disk_gb:g} GiB managed OS disk ({disk_tier(disk_gb)}) per node"))
    on_demand, spot_price = (ctx.snapshot.price(CLOUD, vm_key(reg, size, p)) for p in ("on-demand", "spot"))
    return charges, usage.pool_notes(nodes, size, spot, on_demand.usd if on_demand else None, spot_price.usd if spot_price else None)


def managed_cluster(resource, ctx):
    inputs = resource["inputs"]
    reg = region(resource, ctx)
    charges: list[Charge] = []
    if inputs.get("sku", {}).get("tier", "Free") != "Free":
        charges.append(hourly("Standard tier control plane", f"{reg}/aks/standard-tier-cluster-hour", 1, "one cluster, 730 h"))
    notes: dict[str, Any] = {}
    for profile in inputs.get("agentPoolProfiles", []):
        count = profile.get("count", 0)
        nodes = scenarios(profile.get("minCount", count), count, profile.get("maxCount", count))
        pool, notes = pool_charges(reg, profile, nodes, ctx)
        charges += pool
    if not charges:
        return "Free tier control plane; its node pools are priced on their agent pools"
    return charges, notes


def vcpus(size: str) -> int:
    """vCPUs of an Azure VM size from its name (Standard_D4s_v5 -> 4, Standard_NC8as_T4_v3 -> 8; 1 if unnamed)."""
    match = re.match(r"^Standard_[A-Z]+(\d+)", size)
    return int(match.group(1)) if match else 1


def _pools(ctx) -> list[dict[str, Any]]:
    pools = [p for c in ctx.of_type("azure-native:containerservice:ManagedCluster") for p in c["inputs"].get("agentPoolProfiles", [])]
    return pools + [r["inputs"] for r in ctx.of_type("azure-native:containerservice:AgentPool")]


def defender_plan(resource, ctx):
    """Defender for Containers bills per vCore-hour of every AKS node in the subscription: this stack's nodes are counted."""
    inputs = resource["inputs"]
    if str(inputs.get("pricingTier", "")).lower() != "standard":
        return "Free tier: foundational posture management only, no charge"
    if str(inputs.get("pricingName", "")).lower() != "containers":
        return []  # another Defender plan: the platform sets none, the estimate has no rule for it
    cores = {s: 0.0 for s in ("idle", "expected", "max")}
    for pool in _pools(ctx):
        count = pool.get("count", 0)
        nodes = scenarios(pool.get("minCount", count), count, pool.get("maxCount", count))
        for scenario in cores:
            cores[scenario] += vcpus(pool.get("vmSize", "")) * nodes[scenario]
    return [hourly("Defender for Containers vCore-hours", f"{default_region(ctx)}/defender/containers-vcore-hour", cores,
                   f"{cores['idle']:g} vCores idle, {cores['expected']:g} expected, {cores['max']:g} at maximum (this stack's "
                   "AKS nodes; the plan also bills every other cluster in the subscription), 730 h")]


def agent_pool(resource, ctx):
    inputs = resource["inputs"]
    count = inputs.get("count", 0)
    nodes = scenarios(inputs.get("minCount", count), count, inputs.get("maxCount", count))
    return pool_charges(default_region(ctx), inputs, nodes, ctx)


def postgres_server(resource, ctx):
    inputs = resource["inputs"]
    reg = region(resource, ctx)
    sku = inputs.get("sku", {}).get("name", "")
    ha = (inputs.get("highAvailability") or {}).get("mode", "Disabled") not in ("Disabled", None)
    copies = 2 if ha else 1
    storage = (inputs.get("storage") or {}).get("storageSizeGB")
    note = ""
    if storage is None and inputs.get("createMode") == "Replica":
        source = next((r for r in ctx.of_type(resource["type"]) if r["inputs"].get("createMode") != "Replica"), None)
        storage = ((source or {}).get("inputs", {}).get("storage") or {}).get("storageSizeGB")
        note = " (a read replica: storage as its source)"
    what = "zone-redundant HA (primary + standby)" if ha else ("read replica" if inputs.get("createMode") == "Replica" else "single server")
    return [hourly(f"{sku} compute, {what}", f"{reg}/postgres-flexible/{sku}/compute-hour", copies, f"{copies} server(s), 730 h"),
            monthly("storage", f"{reg}/postgres-flexible/storage-gb-month", float(storage or 0) * copies,
                    f"{storage} GB x {copies}{note}; backup storage up to the server's size is free")]


def nat_gateway(resource, ctx):
    reg = region(resource, ctx)
    return usage.nat_charges(f"{reg}/nat-gateway/hour", f"{reg}/nat-gateway/gb")


def public_ip(resource, ctx):
    return [hourly("Standard static public IPv4", f"{region(resource, ctx)}/public-ip/standard-static-hour", 1, "one address, 730 h")]


def private_endpoint(resource, ctx):
    return [hourly("private endpoint", f"{region(resource, ctx)}/private-link/endpoint-hour", 1,
                   "one endpoint, 730 h; data processed not included")]


def key_vault_key(resource, ctx):
    rotate = resource["inputs"].get("properties", {}).get("rotationPolicy", {}).get("lifetimeActions", [])
    period = next((a.get("trigger", {}).get("timeAfterCreate") for a in rotate if a.get("action", {}).get("type") == "rotate"), None)
    if not period or not str(period).startswith("P") or not str(period).endswith("D"):
        return "software-protected keys in a standard vault bill per 10,000 operations only (not estimated)"
    days = float(str(period)[1:-1])
    return [monthly("scheduled key rotations", "global/key-vault/key-rotation", round(DAYS_PER_MONTH / days, 4),
                    f"one rotation every {days:g} days; operations ($/10,000) not included")]


def container_registry(resource, ctx):
    sku = resource["inputs"].get("sku", {}).get("name", "Premium").lower()
    return [monthly(f"{sku} registry", f"{region(resource, ctx)}/acr/{sku}-registry-day", round(DAYS_PER_MONTH, 4),
                    f"{DAYS_PER_MONTH:.2f} days; storage beyond the included GB not included")]


def acr_replication(resource, ctx):
    return [monthly("geo-replica (Premium registry per region)", f"{region(resource, ctx)}/acr/premium-registry-day",
                    round(DAYS_PER_MONTH, 4), f"{DAYS_PER_MONTH:.2f} days")]


def redis_enterprise(resource, ctx):
    sku = resource["inputs"].get("sku", {}).get("name", "")
    ha = resource["inputs"].get("highAvailability", "Enabled") == "Enabled"
    return [hourly(f"Azure Managed Redis {sku}", f"{region(resource, ctx)}/redis/{sku}{'' if ha else '-no-ha'}-hour", 1,
                   f"one cache, {'high availability' if ha else 'no high availability'}, 730 h")]


def log_workspace(resource, ctx):
    return [monthly("logs ingested (Analytics)", f"{region(resource, ctx)}/log-analytics/ingest-gb", usage.held(usage.LOG_INGEST_GB),
                    f"{usage.LOG_INGEST_GB} GB a month (assumption: docs/cost.md); retention beyond 31 days not included")]


def storage_account(resource, ctx):
    sku = resource["inputs"].get("sku", {}).get("name", "Standard_LRS").lower()
    tier = resource["inputs"].get("accessTier", "Hot").lower()
    return [usage.held_storage(f"blob storage {sku} {tier}", f"{region(resource, ctx)}/blob/{sku}/{tier}-gb-month",
                               usage.OBJECT_STORAGE_GB, "; operations not included")]


def metric_alert(resource, ctx):
    criteria = resource["inputs"].get("criteria", {}).get("allOf", []) or [None]
    return [monthly("metric alert signals", "global/monitor/metric-alert-signal-month", len(criteria),
                    f"{len(criteria)} monitored time series")]


def private_zone(resource, ctx):
    return [monthly("private DNS zone", "global/private-dns/zone-month", 1, "one zone; queries not included")]


RULES = {
    "azure-native:containerservice:ManagedCluster": managed_cluster,
    "azure-native:containerservice:AgentPool": agent_pool,
    "azure-native:dbforpostgresql:Server": postgres_server,
    "azure-native:network:NatGateway": nat_gateway,
    "azure-native:network:PublicIPAddress": public_ip,
    "azure-native:network:PrivateEndpoint": private_endpoint,
    "azure-native:keyvault:Key": key_vault_key,
    "azure-native:containerregistry:Registry": container_registry,
    "azure-native:containerregistry:Replication": acr_replication,
    "azure-native:redisenterprise:RedisEnterprise": redis_enterprise,
    "azure-native:operationalinsights:Workspace": log_workspace,
    "azure-native:storage:StorageAccount": storage_account,
    "azure-native:monitor:MetricAlert": metric_alert,
    "azure-native:privatedns:PrivateZone": private_zone,
    "azure-native:security:Pricing": defender_plan,
}

_CONFIG = "configuration of another resource; no charge of its own"
_NETWORK = "virtual network building block; Azure bills no charge for it"
_IDENTITY = "Entra ID identities and role assignments are free"
FREE = {
    "azure-native:authorization:RoleAssignment": _IDENTITY,
    "azuread:index/application:Application": "Entra ID app registrations are free",
    "azuread:index/applicationPassword:ApplicationPassword": _IDENTITY,
    "azuread:index/servicePrincipal:ServicePrincipal": _IDENTITY,
    "azure-native:compute:DiskEncryptionSet": "disk encryption sets are free (key operations bill on the vault)",
    "azure-native:consumption:Budget": "Cost Management budgets are free",
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": "an Entra administrator of the server; no charge of its own",
    "azure-native:dbforpostgresql:Configuration": _CONFIG,
    "azure-native:dbforpostgresql:Database": "a database inside the server (priced on the server)",
    "azure-native:dbforpostgresql:VirtualEndpoint": "virtual endpoints carry no charge of their own",
    "azure-native:keyvault:Vault": "a standard vault bills per operation (not estimated) and per key (priced on the keys)",
    "azure-native:managedidentity:FederatedIdentityCredential": _IDENTITY,
    "azure-native:managedidentity:UserAssignedIdentity": _IDENTITY,
    "azure-native:monitor:ActionGroup": "email notifications: the first 1,000 a month are free",
    "azure-native:monitor:DiagnosticSetting": "routing is free; the logs it sends bill as ingestion on the workspace (priced there)",
    "azure-native:network:NetworkSecurityGroup": _NETWORK,
    "azure-native:network:PrivateDnsZoneGroup": _CONFIG,
    "azure-native:network:Subnet": _NETWORK,
    "azure-native:network:VirtualNetwork": _NETWORK,
    "azure-native:privatedns:PrivateRecordSet": "records are included in the zone's charge (queries are billed per million, not estimated)",
    "azure-native:privatedns:VirtualNetworkLink": "links carry no charge of their own (the zone is priced)",
    "azure-native:redisenterprise:Database": "a database inside the cache (priced on the cache)",
    "azure-native:resources:ResourceGroup": "resource groups are free",
    "azure-native:storage:BlobContainer": "a container inside the account (storage priced on the account)",
    "azure-native:storage:BlobServiceProperties": _CONFIG,
    "azure-native:storage:ManagementPolicy": _CONFIG,
    "azure-native:storage:ObjectReplicationPolicy":
        "configuration; replicated data bills as storage on the destination account (priced there) and transfer (not estimated)",
}
