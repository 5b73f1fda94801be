"""Azure feature store: blob registry/offline store, Azure Managed Redis online store, Feast identity.

- The registry and offline store share one storage account from the hardened helper (CMK with
  the features key, private endpoint, no shared keys), container ``feast``; only the offline
  prefix tiers down (the registry is hot).
- Online store: Azure Managed Redis (``redisenterprise``), not classic Azure Cache for Redis:
  classic Premium has no customer-managed key in the ARM API this SDK ships, and no active
  geo-replication; Managed Redis has both, plus private endpoints and zone redundancy. The
  cluster's disks are encrypted with the features key through its identity; TLS 1.2 minimum,
  ``clientProtocol=Encrypted`` (there is no plaintext port), public network access disabled,
  private endpoint in ``privatelink.redis.azure.net``.
- Auth stance: Feast's Redis client authenticates with a password only (no Entra token refresh),
  so the database keeps access-key authentication; the key is read at deploy time and written
  into the ``feast-online-store`` Kubernetes Secret (marked secret), which the feature server
  reads as ``${REDIS_CONNECTION_STRING}``. Entra access policies remain available for other
  clients. A key rotation is ``az redisenterprise database regenerate-key`` + ``pulumi up``.
- One Redis database holds every online feature view: Feast keys Redis entries by project and
  entity, so ``online_tables`` maps each view to that database.
- The Feast workload identity gets Storage Blob Data Contributor on the ``feast`` container only.

Open item (in-cluster side): Feast picks its registry store from the path's scheme, and an Azure
blob URL (``https://<account>.blob.core.windows.net/...``) needs ``registry_store_type:
AzureRegistryStore`` in ``feature_store.yaml``; ``components/k8s``' FeatureServer renders the
registry block itself and has no field for it yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s

from components.features import OFFLINE_PREFIX, REGISTRY_OBJECT, FeaturesArgs
from components.k8s import SecretKeyRef
from components.storage import BucketArgs
from components.storage.azure import (STORAGE_BLOB_DATA_CONTRIBUTOR, CustomerManagedKey, PrivateEndpointTarget,
                                      SecureStorageAccount, grant, private_endpoint)
from components.tracking.azure import WorkloadIdentityFactory

FEAST_CONTAINER = "feast"
REDIS_PORT = 10000  # Azure Managed Redis serves TLS on 10000 only
REDIS_DATABASE = "default"  # the only database name Managed Redis accepts
ONLINE_STORE_SECRET = SecretKeyRef(name="feast-online-store", key="connection_string")
# Active geo-replication is not offered on Balanced_B0/B1.
NO_GEO_REPLICATION_SKUS = ("Balanced_B0", "Balanced_B1")
# Defaults: the smallest size, or the smallest that can join a geo-replication group (DR on).
DEFAULT_REDIS_SKU = "Balanced_B0"
DEFAULT_GEO_REDIS_SKU = "Balanced_B3"


def redis_sku(requested: Optional[str], geo_replicated: bool) -> str:
    """The Managed Redis size: the requested one, else the smallest that fits (geo-replication needs B3+)."""
    if requested is None:
        return DEFAULT_GEO_REDIS_SKU if geo_replicated else DEFAULT_REDIS_SKU
    if geo_replicated and requested in NO_GEO_REPLICATION_SKUS:
        raise ValueError(f"Managed Redis {requested} has no active geo-replication; "
                         f"use {DEFAULT_GEO_REDIS_SKU} or larger when DR is on")
    return requested


def redis_database_id(resource_group_id: str, cluster_name: str) -> str:
    """The ARM id of a Managed Redis cluster's database (geo-replication links name databases by id)."""
    return f"{resource_group_id}/providers/Microsoft.Cache/redisEnterprise/{cluster_name}/databases/{REDIS_DATABASE}"


@dataclass(frozen=True)
class GeoReplicationGroup:
    """Active geo-replication: the group's nickname and its Managed Redis clusters.

    ``members`` are (resource group id, cluster name), primary first; every member is created with
    the same list, because Azure links databases only when they are created.
    """

    nickname: str
    members: tuple[tuple[pulumi.Input[str], str], ...]

    def __post_init__(self) -> None:
        if len(self.members) < 2:
            raise ValueError("a geo-replication group needs the primary and at least one replica")

    def linked_databases(self) -> list[dict]:
        return [{"id": pulumi.Output.from_input(group_id).apply(lambda gid, c=cluster: redis_database_id(gid, c))}
                for group_id, cluster in self.members]


def managed_redis(name: str, *, cluster_name: str, resource_group_name: pulumi.Input[str], location: str, sku: str,
                  key: CustomerManagedKey, geo_replication: Optional[GeoReplicationGroup],
                  endpoints: PrivateEndpointTarget, tags: dict, protect: bool, parent: pulumi.Resource,
                  depends_on: Optional[list] = None
                  ) -> tuple[azure.redisenterprise.RedisEnterprise, azure.redisenterprise.Database]:
    """One Managed Redis cluster and its database, hardened the same way wherever it runs (primary and DR):
    CMK through the key's identity, TLS 1.2+ only, no public network, a private endpoint."""
    if key.key_uri_with_version is None:
        raise ValueError(f"{name}: the key needs key_uri_with_version (Managed Redis accepts versioned key URIs only)")
    cluster = azure.redisenterprise.RedisEnterprise(
        name, cluster_name=cluster_name, resource_group_name=resource_group_name, location=location,
        sku={"name": sku}, high_availability="Enabled", minimum_tls_version="1.2", public_network_access="Disabled",
        identity={"type": "UserAssigned", "user_assigned_identities": [key.identity_id]},
        encryption={"customer_managed_key_encryption": {
            "key_encryption_key_url": key.key_uri_with_version,
            "key_encryption_key_identity": {"identity_type": "userAssignedIdentity",
                                            "user_assigned_identity_resource_id": key.identity_id}}},
        tags=tags, opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=key.depends_on_grant()))
    geo = {}
    if geo_replication is not None:
        geo["geo_replication"] = {"group_nickname": geo_replication.nickname,
                                  "linked_databases": geo_replication.linked_databases()}
    database = azure.redisenterprise.Database(
        f"{name}-db", cluster_name=cluster.name, resource_group_name=resource_group_name, database_name=REDIS_DATABASE,
        client_protocol="Encrypted",  # TLS only: Managed Redis has no plaintext port then
        clustering_policy="EnterpriseCluster",  # one endpoint: Feast's plain Redis client works unchanged
        eviction_policy="NoEviction",  # features must never silently disappear (and geo-replication requires it)
        access_keys_authentication="Enabled", port=REDIS_PORT, **geo,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=depends_on or []))
    private_endpoint(name, resource_group_name=resource_group_name, location=location, service_id=cluster.id,
                     group_id="redisEnterprise", target=endpoints, tags=tags, opts=pulumi.ResourceOptions(parent=parent))
    return cluster, database


@dataclass(frozen=True)
class AzureFeaturesInputs:
    """Azure-only inputs."""

    resource_group_name: pulumi.Input[str]
    location: str
    features_key: CustomerManagedKey  # key_uri_with_version is required (Managed Redis takes versioned keys only)
    blob_endpoints: PrivateEndpointTarget
    redis_endpoints: PrivateEndpointTarget  # subnet + privatelink.redis.azure.net zone
    workload_identity: WorkloadIdentityFactory
    redis_sku: Optional[str] = None  # None: redis_sku() picks by whether DR geo-replicates it
    zone_redundant: bool = False  # prod: ZRS account, zone-redundant Redis
    geo_replication: Optional[GeoReplicationGroup] = None  # set when DR is on (fixed at creation)
    k8s_provider: Optional[k8s.Provider] = None
    namespace: Optional[pulumi.Input[str]] = None  # the Feast namespace as created by the k8s layer


class FeatureStore(pulumi.ComponentResource):
    """Feast's registry/offline account, Managed Redis online store and feature-server identity."""

    def __init__(self, name: str, args: FeaturesArgs, azure_inputs: AzureFeaturesInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:features:FeatureStore", name, None, opts)
        inputs = azure_inputs
        self.redis_sku = redis_sku(inputs.redis_sku, inputs.geo_replication is not None)
        self.geo_replication = inputs.geo_replication  # the DR component creates the other members
        tags = {**args.tags, "component": "features"}
        child = pulumi.ResourceOptions(parent=self)
        rg = inputs.resource_group_name
        self.args = args
        self.feast_project = args.feast_project

        self.store = SecureStorageAccount(
            f"{name}-store", BucketArgs(name=f"{args.name}-features", tags=tags, tier_down_prefix=f"{OFFLINE_PREFIX}/",
                                        protect=args.deletion_protection),
            resource_group_name=rg, location=inputs.location, key=inputs.features_key, containers=[FEAST_CONTAINER],
            private_endpoint_target=inputs.blob_endpoints, zone_redundant=inputs.zone_redundant, opts=child)
        self.bucket_name = self.store.account_name
        # Feast's Azure blob registry store takes the blob URL of the registry object.
        self.registry_path = pulumi.Output.format("https://{0}.blob.core.windows.net/{1}/{2}", self.bucket_name,
                                                  FEAST_CONTAINER, REGISTRY_OBJECT)
        self.offline_store_path = pulumi.Output.format("abfs://{0}@{1}.dfs.core.windows.net/{2}", FEAST_CONTAINER,
                                                       self.bucket_name, OFFLINE_PREFIX)

        self._redis(name, args, inputs, tags)

        self.feature_server_identity = inputs.workload_identity(f"{name}-feature-server", args.namespace,
                                                                args.service_account, child)
        self.store_access = grant(
            f"{name}-feature-server-store", scope=self.store.container_ids[FEAST_CONTAINER],
            role_guid=STORAGE_BLOB_DATA_CONTRIBUTOR, principal_id=self.feature_server_identity.principal_id,
            opts=child, description=f"{args.name}: Feast reads the registry and reads/writes the offline store")
        self.service_account_role = self.feature_server_identity.client_id

        self.online_store = {"type": "redis", "redis_type": "redis",
                             "connection_string": "${REDIS_CONNECTION_STRING}"}
        self.online_store_secret_env = {"REDIS_CONNECTION_STRING": ONLINE_STORE_SECRET}
        self.offline_store = {"type": "file"}
        self.online_store_port = REDIS_PORT
        self.online_store_secret = None
        if inputs.k8s_provider is not None:
            self.online_store_secret = k8s.core.v1.Secret(
                f"{name}-online-store",
                metadata={"name": ONLINE_STORE_SECRET.name,
                          "namespace": inputs.namespace if inputs.namespace is not None else args.namespace},
                type="Opaque", string_data={ONLINE_STORE_SECRET.key: self.connection_string},
                opts=pulumi.ResourceOptions(parent=self, provider=inputs.k8s_provider,
                                            additional_secret_outputs=["stringData", "data"]))

        self.register_outputs({
            "feastProject": self.feast_project, "registryPath": self.registry_path,
            "offlineStorePath": self.offline_store_path, "onlineTables": self.online_tables,
            "onlineStoreHost": self.online_store_host, "serviceAccountRole": self.service_account_role,
        })

    def _redis(self, name: str, args: FeaturesArgs, inputs: AzureFeaturesInputs, tags: dict) -> None:
        rg, key = inputs.resource_group_name, inputs.features_key
        geo = inputs.geo_replication
        self.redis_cluster_name = geo.members[0][1] if geo else f"{args.name}-features"
        self.redis, self.redis_database = managed_redis(
            f"{name}-online", cluster_name=self.redis_cluster_name, resource_group_name=rg, location=inputs.location,
            sku=self.redis_sku, key=key, geo_replication=geo, endpoints=inputs.redis_endpoints, tags=tags,
            protect=args.deletion_protection, parent=self)
        self.online_store_host = self.redis.host_name
        self.online_store_table = self.redis_database.id
        self.online_tables = {view: self.redis_database.id for view in args.online_feature_views}
        keys = azure.redisenterprise.list_database_keys_output(
            cluster_name=self.redis.name, database_name=self.redis_database.name, resource_group_name=rg,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[self.redis_database]))
        self.connection_string = pulumi.Output.secret(pulumi.Output.format(
            "{0}:{1},ssl=true,password={2}", self.redis.host_name, REDIS_PORT, keys.primary_key))
