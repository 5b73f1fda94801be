"""GCP feature store: GCS registry/offline store, a Cloud Bigtable online store, Workload Identity for Feast.

Why Bigtable and not Memorystore for Redis:
- Feast's Redis store connects with a password and, over TLS, must trust Memorystore's private
  server CA; its connection string has no way to take a CA certificate without a file, and the
  shared feature server mounts no files. The choice would be a password in a Secret plus TLS
  without server verification. Feast's Bigtable store authenticates with the pod's Workload
  Identity (no secret anywhere) over Google-trusted TLS.
- Bigtable takes a customer-managed key per cluster, and replication is a property of the
  instance: the DR region is one more cluster (with the DR-region key), continuously replicated,
  no second store or copy job (prod also gets a second cluster in another zone of the region).
- Cost is the trade-off: one node per cluster (autoscaled, minimum 1) is the floor.

Feast creates its tables inside the instance on ``feast apply`` (one per entity set, named by
Feast), and they inherit the clusters' CMEK and replication, so nothing is lost by not
pre-creating them; ``online_tables[view]`` therefore names the instance that holds each view.

The bucket comes from the shared hardened-bucket helper with the features key; only the offline
prefix tiers down. Feast's service account reads the whole bucket (registry and offline data) and its
metadata (the registry store's ``get_bucket``), writes only the registry object and under ``offline/``
(an IAM condition on the object name), reads/writes rows of this instance and may create its own tables
there (``feast apply``: a custom role with ``bigtable.tables.create``/``update``, no delete) (``roles/bigtable.user``: no table or instance administration).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.features import OFFLINE_PREFIX, REGISTRY_OBJECT, FeaturesArgs
from components.storage import BucketArgs
from components.storage.gcp import AccessLogBucket, SecureBucket, gcp_labels
from components.tracking.gcp import WorkloadIdentityFactory

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
CPU_TARGET = 50  # percent; leaves headroom for replication traffic
MAX_NODES = 3
BUCKET_METADATA_READER = "roles/storage.legacyBucketReader"
FEAST_TABLE_PERMISSIONS = ("bigtable.tables.create", "bigtable.tables.update")


def write_condition(bucket: str) -> str:
    """Feast writes the registry object (``feast apply``, materialization, a first start commits an empty
    registry) and the offline store; nothing else in the bucket."""
    objects = f"projects/_/buckets/{bucket}/objects/"
    return (f'resource.name == "{objects}{REGISTRY_OBJECT}" || '
            f'resource.name.startsWith("{objects}{OFFLINE_PREFIX}/")')


def instance_name(prefix: str) -> str:
    """Bigtable instance ids are 6-33 characters."""
    return f"{prefix}-features"[:33].rstrip("-")


@dataclass(frozen=True)
class OnlineReplica:
    """A Bigtable cluster of the online store outside the primary zone (another zone, or the DR region)."""

    suffix: str  # cluster id suffix, e.g. "p2", "dr"
    zone: str
    kms_key_id: pulumi.Input[str]  # a key in the zone's region
    key_grant_opts: Optional[pulumi.ResourceOptions] = None  # e.g. the DR provider for the key's grant


@dataclass(frozen=True)
class GcpFeaturesInputs:
    """GCP-only inputs."""

    project: str
    region: str
    zones: Sequence[str]  # the region's zones the platform uses; prod puts a second cluster in zones[1]
    features_key_id: pulumi.Input[str]
    workload_identity: WorkloadIdentityFactory
    high_availability: bool = False  # prod: a second cluster in another zone
    key_grants: Sequence[pulumi.Resource] = ()  # the storage agent's grant on the features key
    dr_replica: Optional[OnlineReplica] = None  # DR: a cluster in the DR region
    access_logs: Optional[AccessLogBucket] = None  # the region's usage-log bucket the feature bucket logs to


class FeatureStore(pulumi.ComponentResource):
    """Feast's registry/offline bucket, Bigtable online store and feature-server identity (see components.features)."""

    def __init__(self, name: str, args: FeaturesArgs, gcp_inputs: GcpFeaturesInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        if gcp_inputs.high_availability and len(gcp_inputs.zones) < 2:
            raise ValueError("FeatureStore: high availability needs two zones")
        super().__init__("mlops:features:FeatureStore", name, None, opts)
        self.args = args
        tags = {**args.tags, "component": "features"}
        child = pulumi.ResourceOptions(parent=self)
        self.feast_project = args.feast_project
        self.features_key_id = pulumi.Output.from_input(gcp_inputs.features_key_id)

        self.store = SecureBucket(
            f"{name}-store",
            BucketArgs(name=f"{args.name}-features", tags=tags, tier_down_prefix=f"{OFFLINE_PREFIX}/",
                       force_destroy=not args.deletion_protection, protect=args.deletion_protection),
            kms_key_id=gcp_inputs.features_key_id, project=gcp_inputs.project, location=gcp_inputs.region,
            depends_on=gcp_inputs.key_grants, access_logs=gcp_inputs.access_logs, opts=child)
        self.bucket_name = self.store.bucket_name
        self.registry_path = pulumi.Output.format("gs://{0}/{1}", self.bucket_name, REGISTRY_OBJECT)
        self.offline_store_path = pulumi.Output.format("gs://{0}/{1}", self.bucket_name, OFFLINE_PREFIX)

        self._online_store(name, args, gcp_inputs, tags)

        self.identity = gcp_inputs.workload_identity(
            f"{name}-feature-server", args.namespace, args.service_account, child, account="feast")
        self._grants(name, gcp_inputs)
        self.service_account_role = self.identity.email
        self.service_account_annotations = self.identity.annotations

        self.register_outputs({
            "feastProject": self.feast_project, "registryPath": self.registry_path,
            "offlineStorePath": self.offline_store_path, "onlineStoreInstance": self.online_store_table,
            "serviceAccountRole": self.service_account_role,
        })

    def _online_store(self, name: str, args: FeaturesArgs, gcp_inputs: GcpFeaturesInputs, tags: dict) -> None:
        replicas: list[OnlineReplica] = []
        if gcp_inputs.high_availability:
            replicas.append(OnlineReplica("p2", gcp_inputs.zones[1], gcp_inputs.features_key_id))
        if gcp_inputs.dr_replica is not None:
            replicas.append(gcp_inputs.dr_replica)
        primary = OnlineReplica("p1", gcp_inputs.zones[0], gcp_inputs.features_key_id)
        instance_id = instance_name(args.name)

        # The Bigtable service agent encrypts with each cluster's key (CMEK). Google creates it only on
        # request, so it is created here, and it must be able to use every key before the instance exists.
        agent = gcp.projects.ServiceIdentity(f"{name}-bigtable-agent", project=gcp_inputs.project,
                                             service="bigtableadmin.googleapis.com",
                                             opts=pulumi.ResourceOptions(parent=self))
        grants = []
        granted: set[int] = set()  # one grant per key (the zone replica shares the primary's key)
        for replica in [primary, *replicas]:
            if id(replica.kms_key_id) in granted:
                continue
            granted.add(id(replica.kms_key_id))
            grant_opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=self), replica.key_grant_opts)
            grants.append(gcp.kms.CryptoKeyIAMMember(
                f"{name}-bigtable-key-{replica.suffix}", crypto_key_id=replica.kms_key_id, role=ENCRYPTER_DECRYPTER,
                member=agent.member, opts=grant_opts))
        clusters = [{
            "cluster_id": f"{instance_id[:26].rstrip('-')}-{replica.suffix}",
            "zone": replica.zone,
            "storage_type": "SSD",
            "kms_key_name": replica.kms_key_id,
            "autoscaling_config": {"min_nodes": 1, "max_nodes": MAX_NODES, "cpu_target": CPU_TARGET},
        } for replica in [primary, *replicas]]
        self.instance = gcp.bigtable.Instance(
            f"{name}-online",
            name=instance_id,
            project=gcp_inputs.project,
            display_name=f"{args.name} Feast online store",
            instance_type="PRODUCTION",
            clusters=clusters,
            deletion_protection=args.deletion_protection,
            labels=gcp_labels(tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection, depends_on=grants))
        self.online_store_table = self.instance.name
        self.online_tables = {view: self.instance.name for view in args.online_feature_views}
        self.online_store_clusters = {replica.suffix: replica.zone for replica in [primary, *replicas]}
        self.online_store = {"type": "bigtable", "project_id": gcp_inputs.project, "instance": self.instance.name}
        self.offline_store = {"type": "file"}

    def _grants(self, name: str, gcp_inputs: GcpFeaturesInputs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        member = self.identity.member
        gcp.storage.BucketIAMMember(
            f"{name}-feast-read", bucket=self.bucket_name, role="roles/storage.objectViewer", member=member, opts=child)
        # Feast's GCS registry store starts with get_bucket (storage.buckets.get), in neither objectViewer nor
        # objectUser. legacyBucketReader is storage.buckets.get + storage.objects.list (already granted above):
        # the one predefined bucket role that adds exactly the missing permission.
        gcp.storage.BucketIAMMember(
            f"{name}-feast-bucket-get", bucket=self.bucket_name, role=BUCKET_METADATA_READER, member=member, opts=child)
        gcp.storage.BucketIAMMember(
            f"{name}-feast-offline-write"  # name kept: renaming would replace the binding
           , bucket=self.bucket_name, role="roles/storage.objectUser", member=member,
            condition={
                "title": "registry-and-offline-store-only",
                "description": "write the registry object and objects under the offline store prefix only",
                "expression": self.bucket_name.apply(write_condition),
            },
            opts=child)
        gcp.bigtable.InstanceIamMember(
            f"{name}-feast-online", project=gcp_inputs.project, instance=self.instance.name,
            role="roles/bigtable.user", member=member, opts=child)
        # `feast apply` creates a table per entity set in the instance and adds its column family
        # (CreateTable, ModifyColumnFamilies); bigtable.user has neither. No delete, no instance administration.
        tables_role = gcp.projects.IAMCustomRole(
            f"{name}-feast-tables", project=gcp_inputs.project, role_id=f"{self.args.name.replace('-', '_')}_feast_tables",
            title="Feast: create its online tables", permissions=list(FEAST_TABLE_PERMISSIONS),
            description="feast apply creates the tables of its feature views and their column family", opts=child)
        gcp.bigtable.InstanceIamMember(
            f"{name}-feast-tables", project=gcp_inputs.project, instance=self.instance.name,
            role=pulumi.Output.concat("projects/", gcp_inputs.project, "/roles/", tables_role.role_id), member=member,
            opts=child)
