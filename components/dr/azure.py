"""Azure disaster recovery: every stateful store copied into the DR location (``mlops:dr.replicaRegion``).

| store | replica here |
| --- | --- |
| tracking database | cross-region read replica of the flexible server, in the DR network's delegated subnet, promoted on failover; MLflow uses the writer virtual endpoint, which follows the promotion |
| MLflow artifacts, Feast registry/offline store | object replication into hardened DR storage accounts (DR keys, private endpoints) |
| container images | ACR geo-replication (a registry replica in the DR location, same login server) |
| online store | Managed Redis active geo-replication (the DR cluster joins the primary's group) |

Why object replication and not GZRS/RA-GZRS: geo-redundant storage copies only to the region
Azure pairs with the primary, which need not be the configured ``replicaRegion``; its secondary
is read-only until an account failover that also drops the account to LRS; and the copy shares the
primary's key and network settings. Object replication writes into an account we own in the DR
location, encrypted with the DR twin of the domain key, private from day one, writable the moment
we fail over. It is asynchronous without a service-level objective, which is why the drill checks
the newest artifact on both sides.

The replica server uses the DR twin of the database key through a DR-region identity (Azure
requires both in the replica's region) and declares ``require_secure_transport=ON`` like the
primary. Replicas keep no backups of their own; the failover turns them on after promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_azure_native as azure

from components.dr import DrArgs
from components.features import OFFLINE_PREFIX
from components.features.azure import FEAST_CONTAINER, FeatureStore, GeoReplicationGroup, managed_redis
from components.registry.azure import ModelRegistry
from components.storage import BucketArgs
from components.storage.azure import CustomerManagedKey, PrivateEndpointTarget, SecureStorageAccount
from components.tracking.azure import TrackingServer, sku_tier, storage_size_gb


@dataclass(frozen=True)
class AzureDrInputs:
    """Azure-only inputs: the DR location's group and network, the DR keys, and what to replicate."""

    resource_group_name: pulumi.Input[str]  # the DR resource group
    location: str
    postgres_subnet_id: pulumi.Input[str]  # DR network's subnet delegated to flexible servers
    postgres_dns_zone_id: pulumi.Input[str]  # the primary's Postgres private zone, linked to the DR network too
    blob_endpoints: PrivateEndpointTarget  # DR endpoint subnet + blob zone
    redis_endpoints: PrivateEndpointTarget  # DR endpoint subnet + Managed Redis zone
    database_key: CustomerManagedKey  # DR twins with DR-region identities
    artifacts_key: CustomerManagedKey
    features_key: CustomerManagedKey
    tracking: TrackingServer
    features: FeatureStore
    registry: ModelRegistry  # (the online store's geo-replication group comes from `features`)
    zone_redundant: bool = True


def redis_geo_group(nickname: str, primary: tuple[pulumi.Input[str], str],
                    replica: tuple[pulumi.Input[str], str]) -> GeoReplicationGroup:
    """The online store's geo-replication group: the primary cluster, then the DR cluster."""
    return GeoReplicationGroup(nickname=nickname, members=(primary, replica))


class DisasterRecovery(pulumi.ComponentResource):
    """Database replica, replicated storage accounts, registry replica and Redis geo-replica (see docstring)."""

    def __init__(self, name: str, args: DrArgs, azure_inputs: AzureDrInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:dr:DisasterRecovery", name, None, opts)
        if azure_inputs.location != args.replica_region:
            raise ValueError(f"DR inputs are for {azure_inputs.location}, the DR region is {args.replica_region}")
        self.args = args
        tags = {**args.tags, "component": "dr", "dr-replica-of": args.primary_region}
        self._tags = tags
        inputs = azure_inputs
        self.region = args.replica_region
        self.rpo_minutes, self.rto_minutes = args.rpo_minutes, args.rto_minutes

        self._database(name, args, inputs, tags)
        self.artifact_replica = self._replicated_account(
            f"{name}-artifacts", f"{args.name}-artifacts-dr", inputs.tracking.artifacts, inputs.artifacts_key,
            [inputs.tracking.args.artifact_prefix], inputs)
        self.feature_replica = self._replicated_account(
            f"{name}-features", f"{args.name}-features-dr", inputs.features.store, inputs.features_key,
            [FEAST_CONTAINER], inputs, tier_down_prefix=f"{OFFLINE_PREFIX}/")
        self.artifact_replica_bucket = self.artifact_replica.account_name
        self.feature_replica_bucket = self.feature_replica.account_name

        self.registry_replica = azure.containerregistry.Replication(
            f"{name}-registry", resource_group_name=self._registry_group(inputs),
            registry_name=inputs.registry.registry_name, replication_name=args.replica_region.replace("-", ""),
            location=args.replica_region, region_endpoint_enabled=True,
            zone_redundancy="Enabled" if inputs.zone_redundant else "Disabled", tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection))
        self.image_replica_region = args.replica_region

        self._online_store(name, args, inputs, tags)
        self.online_store_replica_region = args.replica_region

        self.register_outputs({
            "region": self.region, "dbReplicaId": self.db_replica_id, "dbReplicaArn": self.db_replica_arn,
            "artifactReplicaBucket": self.artifact_replica_bucket, "featureReplicaBucket": self.feature_replica_bucket,
            "onlineStoreReplicaHost": self.online_store_replica_host, "imageReplicaRegion": self.image_replica_region,
        })

    @staticmethod
    def _registry_group(inputs: AzureDrInputs) -> pulumi.Output[str]:
        """Replications live under the registry, so in the registry's resource group."""
        return inputs.registry.registry_id.apply(lambda rid: rid.split("/")[4])

    def _database(self, name: str, args: DrArgs, inputs: AzureDrInputs, tags: dict) -> None:
        primary = inputs.tracking
        key = inputs.database_key
        sku_name = args.db_instance_class or primary.args.db_instance_class
        self.db_replica = azure.dbforpostgresql.Server(
            f"{name}-db",
            server_name=f"{args.name}-tracking-dr",
            resource_group_name=inputs.resource_group_name,
            location=args.replica_region,
            create_mode="Replica",
            source_server_resource_id=primary.db.id,
            sku={"name": sku_name, "tier": sku_tier(sku_name)},
            storage={"storage_size_gb": storage_size_gb(primary.args.db_allocated_storage_gb), "auto_grow": "Enabled"},
            network={"delegated_subnet_resource_id": inputs.postgres_subnet_id,
                     "private_dns_zone_arm_resource_id": inputs.postgres_dns_zone_id,
                     "public_network_access": "Disabled"},
            identity=pulumi.Output.from_input(key.identity_id).apply(
                lambda i: {"type": "UserAssigned", "user_assigned_identities": {i: {}}}),
            data_encryption={"type": "AzureKeyVault", "primary_key_uri": key.key_uri,
                             "primary_user_assigned_identity_id": key.identity_id},
            tags=tags,
            # Promotion (the failover) changes createMode and replication role outside the program.
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection,
                                        ignore_changes=["createMode", "sourceServerResourceId", "replicationRole"],
                                        depends_on=key.depends_on_grant()))
        self.db_replica_tls = azure.dbforpostgresql.Configuration(
            f"{name}-db-require-tls", resource_group_name=inputs.resource_group_name, server_name=self.db_replica.name,
            configuration_name="require_secure_transport", value="ON", source="user-override",
            opts=pulumi.ResourceOptions(parent=self))
        self.db_writer_endpoint = None
        if primary.db_writer_endpoint_name is not None:
            # The read-write virtual endpoint MLflow connects to: it moves to the replica when the runbook
            # promotes it ("promote to primary server"), so clients keep their connection string.
            self.db_writer_endpoint = azure.dbforpostgresql.VirtualEndpoint(
                f"{name}-db-writer", resource_group_name=primary.db.id.apply(lambda rid: rid.split("/")[4]),
                server_name=primary.db.name, virtual_endpoint_name=primary.db_writer_endpoint_name,
                endpoint_type="ReadWrite", members=[self.db_replica.name],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.db_replica],
                                            ignore_changes=["serverName", "members"]))
        self.db_replica_id = self.db_replica.name
        self.db_replica_arn = self.db_replica.id
        self.db_replica_fqdn = self.db_replica.fully_qualified_domain_name

    def _replicated_account(self, name: str, account: str, source: SecureStorageAccount, key: CustomerManagedKey,
                            containers: list[str], inputs: AzureDrInputs,
                            tier_down_prefix: str = "") -> SecureStorageAccount:
        """A hardened account in the DR location and object replication of `containers` into it."""
        replica = SecureStorageAccount(
            name, BucketArgs(name=account, tags=self._tags, tier_down_prefix=tier_down_prefix,
                             protect=self.args.deletion_protection),
            resource_group_name=inputs.resource_group_name, location=self.args.replica_region, key=key,
            containers=containers, private_endpoint_target=inputs.blob_endpoints,
            zone_redundant=inputs.zone_redundant, opts=pulumi.ResourceOptions(parent=self))
        rules = [{"source_container": c, "destination_container": c} for c in containers]
        # Azure creates the policy on the destination first and assigns the policy and rule ids;
        # the source account's policy must repeat them.
        destination_policy = azure.storage.ObjectReplicationPolicy(
            f"{name}-replication-in", resource_group_name=inputs.resource_group_name,
            account_name=replica.account_name, object_replication_policy_id="default",
            source_account=source.account_id, destination_account=replica.account_id, rules=rules,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[replica.blob_service, source.blob_service,
                                                                 *replica.containers.values(),
                                                                 *source.containers.values()]))
        source_group = source.account_id.apply(lambda rid: rid.split("/")[4])
        azure.storage.ObjectReplicationPolicy(
            f"{name}-replication-out", resource_group_name=source_group, account_name=source.account_name,
            object_replication_policy_id=destination_policy.policy_id,
            source_account=source.account_id, destination_account=replica.account_id,
            rules=destination_policy.rules.apply(lambda assigned: [
                {"rule_id": r["rule_id"] if isinstance(r, dict) else r.rule_id,
                 "source_container": r["source_container"] if isinstance(r, dict) else r.source_container,
                 "destination_container": r["destination_container"] if isinstance(r, dict) else r.destination_container}
                for r in assigned or []]),
            opts=pulumi.ResourceOptions(parent=self))
        return replica

    def _online_store(self, name: str, args: DrArgs, inputs: AzureDrInputs, tags: dict) -> None:
        group = inputs.features.geo_replication
        if group is None:
            raise ValueError("the feature store was created without a geo-replication group; Managed Redis "
                             "databases join one only at creation, so DR needs it from the start")
        self.online_replica, self.online_replica_database = managed_redis(
            f"{name}-online", cluster_name=group.members[-1][1], resource_group_name=inputs.resource_group_name,
            location=args.replica_region, sku=inputs.features.redis_sku, key=inputs.features_key,
            geo_replication=group, endpoints=inputs.redis_endpoints, tags=tags, protect=args.deletion_protection,
            parent=self, depends_on=[inputs.features.redis_database])  # joining the group needs the primary
        self.online_store_replica_host = self.online_replica.host_name
