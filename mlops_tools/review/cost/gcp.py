"""GCP: which plan resources are billed and which snapshot price (Cloud Billing Catalog SKU) each charge uses.

Compute Engine prices predefined machines per vCPU-hour and GB-of-RAM-hour of their family, plus GPUs, so a
node-hour is composed from the machine's shape. Keys are `<region>/<service>/<item>`.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from mlops_tools.review.cost import usage
from mlops_tools.review.cost.model import Charge, hourly, monthly, scenarios

CLOUD = "gcp"
# Machine shapes not derivable from the name (vCPU, GB RAM, GPUs, GPU model), from the Compute Engine
# machine-family docs; not visible offline, so a type missing here is reported unpriced rather than guessed.
SHAPES: dict[str, tuple[int, float, int, Optional[str]]] = {
    "g2-standard-8": (8, 32, 1, "nvidia-l4"), "g2-standard-12": (12, 48, 1, "nvidia-l4"),
    "g2-standard-16": (16, 64, 1, "nvidia-l4"), "g2-standard-24": (24, 96, 2, "nvidia-l4"),
    "a2-highgpu-1g": (12, 85, 1, "nvidia-a100"), "a2-highgpu-8g": (96, 680, 8, "nvidia-a100"),
    "a3-highgpu-8g": (208, 1872, 8, "nvidia-h100"),
}
STANDARD = re.compile(r"^(e2|n2|n2d|n4|c3|c3d|c4|n1)-standard-(\d+)$")
GB_PER_VCPU = {"n1": 3.75}


def shape(machine: str) -> Optional[tuple[int, float, int, Optional[str]]]:
    if machine in SHAPES:
        return SHAPES[machine]
    match = STANDARD.match(machine)
    if match:
        cores = int(match.group(2))
        return cores, cores * GB_PER_VCPU.get(match.group(1), 4.0), 0, None
    return None


def region_of(location: str) -> str:
    """europe-west4-a -> europe-west4; regions and multi-regions stay as they are (lower case)."""
    location = location.lower()
    return location[:-2] if re.match(r"^[a-z]+-[a-z]+\d+-[a-z]$", location) else location


def default_region(ctx) -> str:
    for cluster in ctx.of_type("gcp:container/cluster:Cluster"):
        if cluster["inputs"].get("location"):
            return region_of(cluster["inputs"]["location"])
    return "europe-west4"


def region(resource: dict[str, Any], ctx) -> str:
    inputs = resource["inputs"]
    for key in ("region", "location", "zone"):
        if isinstance(inputs.get(key), str):
            return region_of(inputs[key])
    return default_region(ctx)


def block_storage(reg: str, gb: float, what: str) -> Charge:
    return monthly(what, f"{reg}/pd/pd-balanced-gb-month", gb, f"{gb:g} GB balanced persistent disk")


def load_balancer_hour(reg: str) -> Charge:
    return hourly("forwarding rule", f"{reg}/load-balancing/forwarding-rule-hour", 1, "one rule, 730 h; data processed not included")


def machine_charges(reg: str, machine: str, nodes: dict[str, float], spot: bool, ctx) -> tuple[list[Charge], dict[str, Any]]:
    capacity = "spot" if spot else "on-demand"
    found = shape(machine)
    span = f"{nodes['idle']:g} node(s) idle (minimum), {nodes['expected']:g} expected, {nodes['max']:g} at maximum, 730 h"
    if found is None:
        return [Charge(f"{machine} {capacity} nodes", f"{reg}/compute/{machine}/{capacity}", nodes, span,
                       reason=f"the shape (vCPU, RAM, GPUs) of {machine} is not in gcp.SHAPES")], {"nodes": nodes, "instanceType": machine}
    cores, ram, gpus, gpu = found
    family = machine.split("-")[0]
    parts = [(f"{machine}: {cores} vCPU {capacity}", f"{reg}/compute/{family}/core-hour/{capacity}", cores),
             (f"{machine}: {ram:g} GB RAM {capacity}", f"{reg}/compute/{family}/ram-gb-hour/{capacity}", ram)]
    if gpus:
        parts.append((f"{machine}: {gpus} x {gpu} {capacity}", f"{reg}/gpu/{gpu}/hour/{capacity}", gpus))
    charges = [hourly(what, key, {s: n * per for s, n in nodes.items()}, span) for what, key, per in parts]

    def node_hour(kind: str) -> Optional[float]:
        prices = [ctx.snapshot.price(CLOUD, key.rsplit("/", 1)[0] + "/" + kind) for _, key, _ in parts]
        return round(sum(p.usd * per for p, (_, _, per) in zip(prices, parts)), 4) if all(prices) else None

    return charges, usage.pool_notes(nodes, machine, spot, node_hour("on-demand"), node_hour("spot"))


def pool_nodes(inputs: dict[str, Any]) -> dict[str, float]:
    auto = inputs.get("autoscaling") or {}
    if "totalMinNodeCount" in auto or "totalMaxNodeCount" in auto:
        low, high = auto.get("totalMinNodeCount", 0), auto.get("totalMaxNodeCount", 0)
    elif auto:
        zones = len(inputs.get("nodeLocations", [])) or 3
        low, high = auto.get("minNodeCount", 0) * zones, auto.get("maxNodeCount", 0) * zones
    else:
        low = high = inputs.get("nodeCount", inputs.get("initialNodeCount", 0))
    return scenarios(low, low, high)


def cluster(resource, ctx):
    location = resource["inputs"].get("location", "")
    if region_of(location) != location.lower():
        return "a zonal cluster: the GKE free tier credit covers one zonal cluster per billing account"
    return [hourly("cluster management fee (regional)", f"{region(resource, ctx)}/gke/cluster-management-hour", 1,
                   "one regional cluster, 730 h; the free tier credit applies only to zonal and Autopilot clusters")]


def node_pool(resource, ctx):
    inputs = resource["inputs"]
    config = inputs.get("nodeConfig", {})
    reg = region(resource, ctx)
    nodes = pool_nodes(inputs)
    charges, notes = machine_charges(reg, config.get("machineType", "e2-medium"), nodes,
                                     bool(config.get("spot") or config.get("preemptible")), ctx)
    disk = float(config.get("diskSizeGb", 100))
    kind = config.get("diskType", "pd-balanced")
    charges.append(monthly("boot disks", f"{reg}/pd/{kind}-gb-month", {s: n * disk for s, n in nodes.items()},
                           f"{disk:g} GB {kind} per node"))
    return charges, notes


def sql_instance(resource, ctx):
    inputs = resource["inputs"]
    settings = inputs.get("settings", {})
    reg = region(resource, ctx)
    tier = settings.get("tier", "")
    match = re.match(r"^db-custom-(\d+)-(\d+)$", tier)
    availability = "regional" if settings.get("availabilityType") == "REGIONAL" else "zonal"
    disk = settings.get("diskSize")
    note = ""
    if disk is None and inputs.get("masterInstanceName"):
        master = next((r for r in ctx.of_type(resource["type"]) if r["inputs"].get("name") == inputs["masterInstanceName"]), None)
        disk = (master or {}).get("inputs", {}).get("settings", {}).get("diskSize")
        note = " (a replica: disk as its primary)"
    base = f"{reg}/cloud-sql/postgres-{settings.get('edition', 'ENTERPRISE').lower()}"
    if not match:
        charges = [hourly(f"{tier} instance", f"{base}/{tier}/{availability}-hour", 1, "one instance, 730 h")]
    else:
        cores, ram = int(match.group(1)), int(match.group(2)) / 1024
        charges = [hourly(f"{cores} vCPU ({availability})", f"{base}/core-hour/{availability}", cores, f"{tier}, 730 h"),
                   hourly(f"{ram:g} GB RAM ({availability})", f"{base}/ram-gb-hour/{availability}", ram, f"{tier}, 730 h")]
    kind = settings.get("diskType", "PD_SSD").lower().replace("pd_", "")
    charges.append(monthly(f"{kind} storage ({availability})", f"{reg}/cloud-sql/{kind}-gb-month/{availability}", float(disk or 10),
                           f"{disk} GB{note}; autoresize growth not included"))
    return charges


def bigtable_instance(resource, ctx):
    charges = []
    for spec in resource["inputs"].get("clusters", []):
        reg = region_of(spec.get("zone", default_region(ctx)))
        auto = spec.get("autoscalingConfig") or {}
        nodes = scenarios(auto.get("minNodes", spec.get("numNodes", 1)), auto.get("minNodes", spec.get("numNodes", 1)),
                          auto.get("maxNodes", spec.get("numNodes", 1)))
        kind = spec.get("storageType", "SSD").lower()
        charges.append(hourly(f"{spec.get('clusterId')} nodes", f"{reg}/bigtable/{kind}-node-hour", nodes,
                              f"{nodes['idle']:g} node(s) at the autoscaling minimum, {nodes['max']:g} at maximum, 730 h"))
        charges.append(monthly(f"{spec.get('clusterId')} storage", f"{reg}/bigtable/{kind}-gb-month", usage.held(usage.ONLINE_STORE_GB),
                               usage.HELD.format(usage.ONLINE_STORE_GB) + " per cluster (replicated)"))
    return charges


def router_nat(resource, ctx):
    reg = region(resource, ctx)
    vms = {s: 0.0 for s in ("idle", "expected", "max")}
    for pool in ctx.of_type("gcp:container/nodePool:NodePool"):
        if region(pool, ctx) == reg:
            for s, n in pool_nodes(pool["inputs"]).items():
                vms[s] += n
    return [hourly("gateway, per VM using it", f"{reg}/cloud-nat/vm-hour", {s: min(v, 32) for s, v in vms.items()},
                   "every node of the region's pools uses the gateway (billed per VM up to 32 VMs)"),
            monthly("data processed", f"{reg}/cloud-nat/gb", usage.traffic(usage.NAT_GB),
                    f"{usage.NAT_GB} GB a month when busy, 0 idle (assumption: docs/cost.md)")]


def crypto_key(resource, ctx):
    ring = str(resource["inputs"].get("keyRing", ""))
    location = ring.split("/locations/")[1].split("/")[0] if "/locations/" in ring else default_region(ctx)
    return [monthly("active software key version", f"{region_of(location)}/kms/software-key-version-month", 1,
                    "one active version; each rotation adds a version until old ones are destroyed; operations not included")]


def bucket(resource, ctx):
    cls = str(resource["inputs"].get("storageClass", "STANDARD")).lower()
    return [usage.held_storage(f"{cls} storage", f"{region(resource, ctx)}/gcs/{cls}-gb-month", usage.OBJECT_STORAGE_GB,
                               " in that class (lifecycle moves to colder classes not modelled)")]


def artifact_repository(resource, ctx):
    return [usage.held_storage("image storage", f"{region(resource, ctx)}/artifact-registry/gb-month", usage.IMAGES_GB)]


def managed_zone(resource, ctx):
    return [monthly("managed zone", "global/cloud-dns/managed-zone-month", 1, "one zone; queries not included")]


def alert_policy(resource, ctx):
    conditions = len(resource["inputs"].get("conditions", [])) or 1
    return [monthly("alert conditions", "global/monitoring/alert-condition-month", conditions, f"{conditions} condition(s)")]


def transfer_job(resource, ctx):
    return [monthly("bytes replicated", "global/storage-transfer/replication-gb", usage.traffic(usage.OBJECT_STORAGE_GB / 10),
                    f"{usage.OBJECT_STORAGE_GB / 10:g} GB of new objects replicated a month (assumption)")]


RULES = {
    "gcp:container/cluster:Cluster": cluster,
    "gcp:container/nodePool:NodePool": node_pool,
    "gcp:sql/databaseInstance:DatabaseInstance": sql_instance,
    "gcp:bigtable/instance:Instance": bigtable_instance,
    "gcp:compute/routerNat:RouterNat": router_nat,
    "gcp:kms/cryptoKey:CryptoKey": crypto_key,
    "gcp:storage/bucket:Bucket": bucket,
    "gcp:artifactregistry/repository:Repository": artifact_repository,
    "gcp:dns/managedZone:ManagedZone": managed_zone,
    "gcp:monitoring/alertPolicy:AlertPolicy": alert_policy,
    "gcp:storage/transferJob:TransferJob": transfer_job,
}

_IAM = "IAM bindings and service accounts are free"
_NETWORK = "VPC building block; no charge of its own"
FREE = {
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": _IAM,
    "gcp:bigtable/instanceIamMember:InstanceIamMember": _IAM,
    "gcp:billing/budget:Budget": "Cloud Billing budgets are free",
    "gcp:compute/firewall:Firewall": _NETWORK + " (firewall rule logging bills as Cloud Logging ingestion)",
    "gcp:compute/globalAddress:GlobalAddress": "an internal range reserved for private services access; internal ranges are free",
    "gcp:compute/network:Network": _NETWORK,
    "gcp:compute/router:Router": "Cloud Router is free (the NAT gateway on it is priced)",
    "gcp:compute/subnetwork:Subnetwork": _NETWORK + " (flow logs bill as Cloud Logging ingestion beyond the free allotment)",
    "gcp:dns/recordSet:RecordSet": "records are included in the managed zone's charge",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": _IAM,
    "gcp:kms/keyRing:KeyRing": "key rings are free",
    "gcp:monitoring/dashboard:Dashboard": "Cloud Monitoring dashboards are free",
    "gcp:monitoring/notificationChannel:NotificationChannel": "notification channels are free",
    "gcp:projects/iAMCustomRole:IAMCustomRole": "custom IAM roles are free",
    "gcp:projects/iAMMember:IAMMember": _IAM,
    "gcp:projects/service:Service": "enabling an API is free",
    "gcp:projects/serviceIdentity:ServiceIdentity": _IAM,
    "gcp:serviceaccount/account:Account": _IAM,
    "gcp:serviceaccount/iAMMember:IAMMember": _IAM,
    "gcp:servicenetworking/connection:Connection": "private services access peering is free",
    "gcp:sql/database:Database": "a database inside the instance (priced on the instance)",
    "gcp:sql/user:User": "a user inside the instance",
    "gcp:storage/bucketIAMMember:BucketIAMMember": _IAM,
}
