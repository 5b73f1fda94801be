"""AWS DR: replicas of the tracking database, buckets, images and online tables in the DR region.

Every DR-region resource is created with the DR provider (the plan shows it on each), encrypted
with the DR-region twin of its domain's key (multi-Region replica keys from the keys component).

- Network: the network component's data-only flavour (VPC, data subnets with no internet route,
  flow logs), just enough for the database replica's subnet group.
- Database: a cross-region read replica of the tracking database (``replicate_source_db`` = the
  primary's ARN), in a security group with no rules: nothing runs in the DR region until a
  failover, and the runbook opens it to whatever it brings up. PostgreSQL read replicas have no
  automated backups and cannot take a final snapshot (RDS refuses both), so neither is requested;
  the runbook turns backups on right after promotion. Deletion protection still applies.
- Buckets: replicas of the artifact and feature buckets from the shared hardened-bucket helper.
  Replication replicates SSE-KMS objects (re-encrypted with the DR key) and delete markers, with
  Replication Time Control (15-minute SLA) and metrics, which the monitoring component alarms on.
  The replication role can read exactly the two source buckets, write exactly the two replicas,
  and use exactly the four keys through S3 for those buckets.
- Images: registry replication of the platform's repository prefix to the DR region; a repository
  creation template there makes replicated repositories immutable, KMS-encrypted with the DR key
  and subject to the same untagged-image expiry.
- Online store: one table replica per online table (global tables, version 2019.11.21) in the DR
  region with the DR features key, point-in-time recovery and deletion protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components.dr import DrArgs
from components.features.aws import FeatureStore
from components.monitoring.aws import DrMonitoringInputs, ReplicationRule
from components.network import NetworkArgs
from components.network.aws import AwsNetworkInputs, Network
from components.registry.aws import ModelRegistry, untagged_expiry_policy
from components.storage import BucketArgs
from components.storage.aws import SecureBucket
from components.aws_account import arn_part
from components.aws_iam import kms_via_service
from components.tracking.aws import POSTGRES_PORT, TrackingServer, tracking_db_parameters
from components.documents import json_document

# S3 Replication Time Control's only (and maximum) threshold.
S3_RTC_MINUTES = 15
DR_KEY_DOMAINS = ("artifacts", "database", "features", "notifications")


@dataclass(frozen=True)
class AwsDrInputs:
    """The DR provider, the primary-side components to replicate, and the DR-region key twins."""

    dr_provider: aws.Provider
    tracking: TrackingServer
    features: FeatureStore
    registry: ModelRegistry
    dr_key_arns: Mapping[str, pulumi.Input[str]]  # domain -> DR-region replica key ARN (DR_KEY_DOMAINS)


@dataclass(frozen=True)
class ReplicatedBucketPair:
    """A primary bucket, its DR replica and the replication rule between them."""

    rule_id: str
    source: SecureBucket
    replica: SecureBucket


class DisasterRecovery(pulumi.ComponentResource):
    """Replica side of every stateful store, in the DR region (see components.dr)."""

    def __init__(self, name: str, args: DrArgs, aws_inputs: AwsDrInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:dr:DisasterRecovery", name, None, opts)
        missing = [domain for domain in DR_KEY_DOMAINS if domain not in aws_inputs.dr_key_arns]
        if missing:
            raise ValueError(f"DisasterRecovery: no DR-region key for {', '.join(missing)} (is dr_enabled set on the keys?)")
        self.args = args
        tags = {**args.tags, "component": "dr", "dr-region": args.replica_region}
        self._tags = tags
        self._dr_keys = aws_inputs.dr_key_arns
        self._dr = pulumi.ResourceOptions(parent=self, provider=aws_inputs.dr_provider)
        self.region = args.replica_region
        self.rpo_minutes = args.rpo_minutes
        self.rto_minutes = args.rto_minutes
        self._account = arn_part(aws_inputs.tracking.db_instance_arn, 4)

        self.network = Network(
            f"{name}-network",
            NetworkArgs(name=f"{args.name}-dr", cidr=args.network_cidr, az_count=args.az_count, nat_gateway_per_az=False,
                        flow_log_retention_days=args.flow_log_retention_days, data_only=True, tags=tags),
            AwsNetworkInputs(region=args.replica_region, logs_key_arn=self._dr_keys["notifications"]),
            opts=pulumi.ResourceOptions(parent=self, providers=[aws_inputs.dr_provider]))

        self._database_replica(name, args, aws_inputs.tracking)
        self.bucket_pairs = self._bucket_replication(name, args, aws_inputs)
        self._image_replication(name, args, aws_inputs.registry)
        self._online_store_replicas(name, args, aws_inputs.features)

        # What the monitoring component alarms on (replication latency / failures per rule).
        self.replication_rules = [ReplicationRule(pair.source.bucket_name, pair.replica.bucket_name, pair.rule_id)
                                  for pair in self.bucket_pairs]
        self.monitoring_inputs = DrMonitoringInputs(
            provider=aws_inputs.dr_provider, region=args.replica_region,
            notifications_key_arn=self._dr_keys["notifications"], db_replica_id=self.db_replica_id,
            replication_rules=self.replication_rules)
        self.artifact_replica_bucket = self.bucket_pairs[0].replica.bucket_name
        self.feature_replica_bucket = self.bucket_pairs[1].replica.bucket_name
        self.online_store_replica_region = args.replica_region
        self.image_replica_region = args.replica_region
        self.register_outputs({
            "region": self.region, "rpoMinutes": self.rpo_minutes, "rtoMinutes": self.rto_minutes,
            "dbReplicaId": self.db_replica_id, "dbReplicaArn": self.db_replica_arn,
            "artifactReplicaBucket": self.artifact_replica_bucket, "featureReplicaBucket": self.feature_replica_bucket,
        })

    def _service_role(self, name: str, service: str, description: str) -> aws.iam.Role:
        """A role only `service` acting for this account can assume (no confused deputy)."""
        return aws.iam.Role(
            name, description=description,
            assume_role_policy=json_document({"Version": "2012-10-17", "Statement": [{
                "Sid": "ServiceOfThisAccount", "Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"},
                "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": self._account}}}]}),
            tags=self._tags, opts=pulumi.ResourceOptions(parent=self))

    # --- database ------------------------------------------------------------------------------

    def _database_replica(self, name: str, args: DrArgs, tracking: TrackingServer) -> None:
        tags, dr = self._tags, self._dr
        identifier = f"{args.name}-tracking-dr"
        security_group = aws.ec2.SecurityGroup(
            f"{name}-db", vpc_id=self.network.vpc_id,
            description=f"{identifier}: closed until failover (the runbook opens PostgreSQL {POSTGRES_PORT})",
            tags={**tags, "Name": f"{identifier}-db"}, opts=dr)
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-db", name=identifier, subnet_ids=self.network.data_subnet_ids,
            description=f"{identifier}: DR-region data subnets", tags=tags, opts=dr)
        parameter_group = aws.rds.ParameterGroup(
            f"{name}-db", name=identifier, family=tracking.db_parameter_group_family,
            description=f"{identifier}: same settings as the primary (TLS required)",
            parameters=tracking_db_parameters(), tags=tags, opts=dr)
        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-db-{log}", name=f"/aws/rds/instance/{identifier}/{log}", retention_in_days=args.log_retention_days,
                kms_key_id=self._dr_keys["notifications"], tags=tags, opts=dr)
            for log in ("postgresql", "upgrade")
        ]
        insights = {}
        if args.performance_insights:
            insights = {"performance_insights_enabled": True, "performance_insights_kms_key_id": self._dr_keys["database"],
                        "performance_insights_retention_period": 7}
        primary = tracking.args
        self.db_replica = aws.rds.Instance(
            f"{name}-db",
            identifier=identifier,
            replicate_source_db=tracking.db_instance_arn,  # cross-region: the ARN, not the identifier
            instance_class=args.db_instance_class or primary.db_instance_class,
            max_allocated_storage=primary.db_max_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=self._dr_keys["database"],
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            parameter_group_name=parameter_group.name,
            publicly_accessible=False,
            multi_az=False,  # a standby of a standby; the runbook makes the promoted instance multi-AZ
            ca_cert_identifier="rds-ca-rsa2048-g1",
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=True,  # RDS refuses final snapshots of read replicas
            auto_minor_version_upgrade=True,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            tags=tags,
            **insights,
            opts=dr.merge(pulumi.ResourceOptions(protect=args.deletion_protection, depends_on=log_groups)),
        )
        self.db_replica_id = self.db_replica.identifier
        self.db_replica_arn = self.db_replica.arn
        self.db_replica_address = self.db_replica.address

    # --- buckets -------------------------------------------------------------------------------

    def _bucket_replication(self, name: str, args: DrArgs, aws_inputs: AwsDrInputs) -> list[ReplicatedBucketPair]:
        sources = [
            ("artifacts", aws_inputs.tracking.artifacts, self._dr_keys["artifacts"]),
            ("features", aws_inputs.features.store, self._dr_keys["features"]),
        ]
        pairs = []
        for kind, source, dr_key in sources:
            replica = SecureBucket(
                f"{name}-{kind}-replica",
                BucketArgs(name=f"{args.name}-{kind}-dr", tags=self._tags, force_destroy=not args.deletion_protection,
                           protect=args.deletion_protection),
                kms_key_arn=dr_key, opts=pulumi.ResourceOptions(parent=self, providers=[self._dr.provider]))
            pairs.append(ReplicatedBucketPair(f"{kind}-to-{args.replica_region}", source, replica))

        role = self._service_role(f"{name}-replication", "s3", f"{args.name}: S3 replication into {args.replica_region}")
        policy = aws.iam.RolePolicy(f"{name}-replication", role=role.id, policy=replication_policy(
            pairs, args.primary_region, args.replica_region), opts=pulumi.ResourceOptions(parent=self))
        self.replication_role = role

        for pair in pairs:
            aws.s3.BucketReplicationConfig(
                f"{name}-{pair.rule_id}",
                bucket=pair.source.bucket.id,
                role=role.arn,
                rules=[{
                    "id": pair.rule_id,
                    "status": "Enabled",
                    "priority": 1,
                    "filter": {},  # every object
                    "delete_marker_replication": {"status": "Enabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": pair.replica.bucket_arn,
                        "encryption_configuration": {"replica_kms_key_id": pair.replica.kms_key_arn},
                        "replication_time": {"status": "Enabled", "time": {"minutes": S3_RTC_MINUTES}},
                        "metrics": {"status": "Enabled", "event_threshold": {"minutes": S3_RTC_MINUTES}},
                    },
                }],
                # Replication needs versioning on both sides and the role's permissions in place.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[pair.source.versioning, pair.replica.versioning, policy]))
        return pairs

    # --- images --------------------------------------------------------------------------------

    def _image_replication(self, name: str, args: DrArgs, registry: ModelRegistry) -> None:
        prefix = registry.repository_prefix
        dr_key = self._dr_keys["artifacts"]
        repositories = pulumi.Output.format("arn:aws:ecr:{0}:{1}:repository/{2}/*", args.replica_region, self._account, prefix)
        creation_role = self._service_role(
            f"{name}-ecr-creation", "ecr", f"{args.name}: ECR creates replicated repositories in {args.replica_region}")
        self.image_creation_role = creation_role
        creation_policy = aws.iam.RolePolicy(
            f"{name}-ecr-creation", role=creation_role.id, policy=json_document({
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "CreateReplicatedRepositories", "Effect": "Allow",
                     "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"], "Resource": repositories},
                    kms_via_service("EncryptWithDrArtifactsKey",
                                    ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], dr_key, "ecr",
                                    args.replica_region),
                ]}),
            opts=pulumi.ResourceOptions(parent=self))
        template = aws.ecr.RepositoryCreationTemplate(
            f"{name}-ecr-template",
            prefix=prefix,
            applied_fors=["REPLICATION"],
            description=f"{args.name}: replicated repositories are immutable, scanned by the registry policy, KMS-encrypted",
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": dr_key}],
            lifecycle_policy=untagged_expiry_policy(args.untagged_image_expiry_days),
            custom_role_arn=creation_role.arn,
            resource_tags=self._tags,
            opts=self._dr.merge(pulumi.ResourceOptions(depends_on=[creation_policy])))
        registry_id = next(iter(registry.repositories.values())).registry_id
        self.image_replication = aws.ecr.ReplicationConfiguration(
            f"{name}-ecr-replication",
            replication_configuration={"rules": [{
                "destinations": [{"region": args.replica_region, "registry_id": registry_id}],
                "repository_filters": [{"filter": prefix, "filter_type": "PREFIX_MATCH"}],
            }]},
            # The template must exist before the first image replicates, or the repository is created bare.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template]))

    # --- online store --------------------------------------------------------------------------

    def _online_store_replicas(self, name: str, args: DrArgs, features: FeatureStore) -> None:
        self.online_table_replicas: dict[str, aws.dynamodb.TableReplica] = {}
        for view, table in features.tables.items():
            self.online_table_replicas[view] = aws.dynamodb.TableReplica(
                f"{name}-online-{view}",
                global_table_arn=table.arn,
                kms_key_arn=self._dr_keys["features"],
                point_in_time_recovery=True,
                deletion_protection_enabled=args.deletion_protection,
                tags=self._tags,
                opts=self._dr.merge(pulumi.ResourceOptions(protect=args.deletion_protection)))


def replication_policy(pairs: list[ReplicatedBucketPair], primary_region: str, replica_region: str) -> pulumi.Output[str]:
    """Read the source buckets, write the replicas, decrypt/encrypt with exactly their keys through S3."""
    def objects(bucket: SecureBucket) -> pulumi.Output[str]:
        return pulumi.Output.concat(bucket.bucket_arn, "/*")

    def contexts(buckets: list[SecureBucket]) -> list:
        # With S3 Bucket Keys the encryption context is the bucket ARN; without, the object ARN.
        return [value for bucket in buckets for value in (bucket.bucket_arn, objects(bucket))]

    sources = [pair.source for pair in pairs]
    replicas = [pair.replica for pair in pairs]
    return json_document({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadReplicationConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": [b.bucket_arn for b in sources]},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": [objects(b) for b in sources]},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [objects(b) for b in replicas]},
        kms_via_service("DecryptSourceObjects", "kms:Decrypt", [b.kms_key_arn for b in sources], "s3", primary_region,
                        s3_arns=contexts(sources)),
        kms_via_service("EncryptReplicas", ["kms:Encrypt", "kms:GenerateDataKey"], [b.kms_key_arn for b in replicas],
                        "s3", replica_region, s3_arns=contexts(replicas)),
    ]})
