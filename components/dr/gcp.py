"""GCP DR: replicas of the tracking database, buckets and images in the DR region.

Every DR-region resource is created with the DR provider and encrypted with the DR-region key
of its domain (the keys component's DR key ring; its service-agent grants come in as inputs).

- Database: a cross-region Cloud SQL read replica (``master_instance_name`` = the primary), in
  the same VPC (VPC networks and private services access are global on GCP, so no second network),
  private IP only, TLS only, the same flags. Read replicas take no backups (Cloud SQL refuses
  them); the runbook promotes the replica, turns backups and PITR on, and repoints the private
  record MLflow uses (``trackingDbEndpointRecord``) to ``dbReplicaPrivateIp``.
- Buckets: why cross-bucket replication (Storage Transfer Service ``replication_spec``) and not a
  dual-region bucket with turbo replication: a dual-region bucket's CMEK key must live in the
  multi-region that spans both regions, and the bucket's placement is fixed at creation, so turning
  DR on would replace the primary buckets and need a third key location. Cross-bucket replication
  copies every new or updated object into a separate bucket in the DR region (its own DR key,
  versioning, lifecycle) within minutes, event-driven; deletions are not replicated (a deleted
  artifact survives in DR), and objects older than the job need a one-time transfer (runbook).
  Google states no RPO for it, so the DR drill measures it. The Storage Transfer service agent
  gets roles on exactly the two source buckets and the two replicas, nothing project-wide.
- Images: a standard Artifact Registry repository per image kind in the DR region (immutable,
  DR artifacts key, same cleanup). Artifact Registry has no cross-region replication, and a remote
  (pull-through) repository would only hold what was already pulled through it, and needs the
  primary region to be up; so the release pipeline pushes every tag to both repositories
  (``crane copy <primary>/<image>:<tag> <dr>/<image>:<tag>``) and the drill checks they match.
- Online store: the Bigtable instance's DR cluster (created by the feature store, which owns the
  instance; replication is continuous and managed by Bigtable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.dr import DrArgs, dr_outputs
from components.features.gcp import FeatureStore
from components.registry import IMAGE_KINDS
from components.registry.gcp import ModelRegistry, cleanup_policies, docker_url, repository_id
from components.storage import BucketArgs
from components.storage.gcp import AccessLogBucket, SecureBucket, gcp_labels
from components.tracking.gcp import EDITION, TrackingServer, ip_configuration, tracking_db_flags

DR_KEY_DOMAINS = ("artifacts", "database", "features")
# GCP extras of the stack's `dr` output: where the release pipeline pushes images, and what the
# failover runbook repoints MLflow to (None when DR is off, like the shared fields).
RUNBOOK_OUTPUTS = ("imageRepositoryUrls", "dbReplicaPrivateIp", "onlineStoreReplicaZone", "transferJobs")


def transfer_agent(project: str, provider: Optional[gcp.Provider]) -> pulumi.Output[str]:
    """The project's Storage Transfer Service agent (it runs replication jobs), as an IAM member.

    Asked for through the API on purpose: Google creates the agent on that first request, so the
    bucket grants below never name an agent that does not exist yet.
    """
    return gcp.storage.get_transfer_project_service_account_output(
        project=project, opts=pulumi.InvokeOptions(provider=provider)).member


@dataclass(frozen=True)
class GcpDrInputs:
    """The DR provider, the primary-side components to replicate, and the DR-region keys."""

    project: str
    dr_provider: gcp.Provider
    tracking: TrackingServer
    features: FeatureStore
    registry: ModelRegistry
    dr_key_ids: Mapping[str, pulumi.Input[str]]  # domain -> DR-region key id (DR_KEY_DOMAINS)
    dr_key_grants: Sequence[pulumi.Resource] = ()  # the service agents' grants on the DR keys
    access_logs: Optional[AccessLogBucket] = None  # the DR region's usage-log bucket the replicas log to


@dataclass(frozen=True)
class ReplicatedBucketPair:
    kind: str
    source: SecureBucket
    replica: SecureBucket
    job: Optional[gcp.storage.TransferJob] = None


class DisasterRecovery(pulumi.ComponentResource):
    """Replica side of every stateful store, in the DR region (see components.dr)."""

    def __init__(self, name: str, args: DrArgs, gcp_inputs: GcpDrInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        missing = [domain for domain in DR_KEY_DOMAINS if domain not in gcp_inputs.dr_key_ids]
        if missing:
            raise ValueError(f"DisasterRecovery: no DR-region key for {', '.join(missing)} (is dr_enabled set on the keys?)")
        if "dr" not in gcp_inputs.features.online_store_clusters:
            raise ValueError("DisasterRecovery: the feature store has no DR cluster (pass dr_replica to the feature store)")
        super().__init__("mlops:dr:DisasterRecovery", name, None, opts)
        self.args = args
        self._inputs = gcp_inputs
        tags = {**args.tags, "component": "dr", "dr-region": args.replica_region}
        self._tags = tags
        self._labels = gcp_labels(tags)
        self._dr = pulumi.ResourceOptions(parent=self, provider=gcp_inputs.dr_provider)
        self._after_grants = list(gcp_inputs.dr_key_grants)
        self.region = args.replica_region
        self.rpo_minutes = args.rpo_minutes
        self.rto_minutes = args.rto_minutes

        self._database_replica(name, args, gcp_inputs.tracking)
        self.bucket_pairs = self._bucket_replication(name, args, gcp_inputs)
        self._image_repositories(name, args, gcp_inputs.registry)

        self.artifact_replica_bucket = self.bucket_pairs[0].replica.bucket_name
        self.feature_replica_bucket = self.bucket_pairs[1].replica.bucket_name
        self.online_store_replica_region = args.replica_region
        self.online_store_replica_zone = gcp_inputs.features.online_store_clusters["dr"]
        self.image_replica_region = args.replica_region
        self.runbook_outputs = {  # RUNBOOK_OUTPUTS
            "imageRepositoryUrls": self.image_repository_urls,
            "dbReplicaPrivateIp": self.db_replica_private_ip,
            "onlineStoreReplicaZone": self.online_store_replica_zone,
            "transferJobs": self.transfer_jobs,
        }
        self.register_outputs({
            "region": self.region, "rpoMinutes": self.rpo_minutes, "rtoMinutes": self.rto_minutes,
            "dbReplicaId": self.db_replica_id, "artifactReplicaBucket": self.artifact_replica_bucket,
            "featureReplicaBucket": self.feature_replica_bucket, "imageRepositoryUrls": self.image_repository_urls,
        })

    # --- database ------------------------------------------------------------------------------

    def _database_replica(self, name: str, args: DrArgs, tracking: TrackingServer) -> None:
        primary = tracking.args
        self.db_replica = gcp.sql.DatabaseInstance(
            f"{name}-db",
            name=f"{args.name}-tracking-dr",
            project=self._inputs.project,
            region=args.replica_region,
            database_version=tracking.database_version,
            master_instance_name=tracking.db_instance_id,
            encryption_key_name=self._inputs.dr_key_ids["database"],
            deletion_protection=args.deletion_protection,
            settings={
                "tier": args.db_instance_class or primary.db_instance_class,
                "edition": EDITION,
                "availability_type": "ZONAL",  # a standby of a standby; the runbook makes the promoted one REGIONAL
                "disk_type": "PD_SSD",
                "disk_autoresize": True,
                "disk_autoresize_limit": primary.db_max_storage_gb,
                "deletion_protection_enabled": args.deletion_protection,
                "ip_configuration": ip_configuration(tracking.network_id),
                "backup_configuration": {"enabled": False},  # read replicas cannot take backups
                "database_flags": tracking_db_flags(),
                "user_labels": self._labels,
            },
            opts=self._dr.merge(pulumi.ResourceOptions(protect=args.deletion_protection, depends_on=self._after_grants)),
        )
        self.db_replica_id = self.db_replica.name
        self.db_replica_arn = self.db_replica.self_link
        self.db_replica_private_ip = self.db_replica.private_ip_address

    # --- buckets -------------------------------------------------------------------------------

    def _bucket_replication(self, name: str, args: DrArgs, gcp_inputs: GcpDrInputs) -> list[ReplicatedBucketPair]:
        agent = transfer_agent(gcp_inputs.project, gcp_inputs.dr_provider)
        pairs = []
        for kind, source, domain in (("artifacts", gcp_inputs.tracking.artifacts, "artifacts"),
                                     ("features", gcp_inputs.features.store, "features")):
            replica = SecureBucket(
                f"{name}-{kind}-replica",
                BucketArgs(name=f"{args.name}-{kind}-dr", tags=self._tags, force_destroy=not args.deletion_protection,
                           protect=args.deletion_protection),
                kms_key_id=gcp_inputs.dr_key_ids[domain], project=gcp_inputs.project, location=args.replica_region,
                depends_on=self._after_grants, access_logs=gcp_inputs.access_logs,
                opts=pulumi.ResourceOptions(parent=self, providers=[gcp_inputs.dr_provider]))
            child = pulumi.ResourceOptions(parent=self)
            # The grants Google's own replication setup gives the agent: bucket owner on the source (it adds
            # the Pub/Sub change notification there) plus object reads, bucket writer on the replica.
            grants = [
                gcp.storage.BucketIAMMember(f"{name}-{kind}-source-bucket", bucket=source.bucket_name,
                                            role="roles/storage.legacyBucketOwner", member=agent, opts=child),
                gcp.storage.BucketIAMMember(f"{name}-{kind}-source-objects", bucket=source.bucket_name,
                                            role="roles/storage.objectViewer", member=agent, opts=child),
                gcp.storage.BucketIAMMember(f"{name}-{kind}-replica-writer", bucket=replica.bucket_name,
                                            role="roles/storage.legacyBucketWriter", member=agent, opts=child),
            ]
            job = gcp.storage.TransferJob(
                f"{name}-{kind}-replication",
                project=gcp_inputs.project,
                description=f"{args.name}: replicate {kind} into {args.replica_region}",
                replication_spec={
                    "gcs_data_source": {"bucket_name": source.bucket_name},
                    "gcs_data_sink": {"bucket_name": replica.bucket_name},
                    "transfer_options": {"delete_objects_from_source_after_transfer": False,
                                         "delete_objects_unique_in_sink": False,
                                         # a change event means the source is newer (and no reads of the replica needed)
                                         "overwrite_when": "ALWAYS"},
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=grants))
            pairs.append(ReplicatedBucketPair(kind, source, replica, job))
        self.transfer_jobs = {pair.kind: pair.job.name for pair in pairs}
        return pairs

    # --- images --------------------------------------------------------------------------------

    def _image_repositories(self, name: str, args: DrArgs, registry: ModelRegistry) -> None:
        self.image_repositories: dict[str, gcp.artifactregistry.Repository] = {}
        for kind in IMAGE_KINDS:
            self.image_repositories[kind] = gcp.artifactregistry.Repository(
                f"{name}-{kind}",
                repository_id=repository_id(registry.args, kind),
                project=self._inputs.project,
                location=args.replica_region,
                format="DOCKER",
                mode="STANDARD_REPOSITORY",
                description=f"{args.name}: DR copy of the {kind} images (pushed by the release pipeline)",
                docker_config={"immutable_tags": True},
                kms_key_name=self._inputs.dr_key_ids["artifacts"],
                cleanup_policies=cleanup_policies(args.untagged_image_expiry_days),
                cleanup_policy_dry_run=False,
                vulnerability_scanning_config={"enablement_config": "INHERITED"},
                labels=self._labels,
                opts=self._dr.merge(pulumi.ResourceOptions(protect=args.deletion_protection,
                                                           depends_on=self._after_grants)))
        self.image_repository_urls = {
            kind: docker_url(args.replica_region, repo.project, repo.repository_id)
            for kind, repo in self.image_repositories.items()}


def gcp_dr_outputs(cfg, dr: Optional[DisasterRecovery]) -> dict:
    """The stack's ``dr`` output on GCP: the shared fields (components.dr.dr_outputs) plus RUNBOOK_OUTPUTS."""
    return {**dr_outputs(cfg, dr), **(dr.runbook_outputs if dr is not None else dict.fromkeys(RUNBOOK_OUTPUTS))}
