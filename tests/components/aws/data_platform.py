"""The data side of the AWS platform (tracking, registry, features, and DR when asked) on top of the
foundation, for the DR and monitoring component tests. Exports what those tests compare against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components.dr import DrArgs
from components.dr.aws import AwsDrInputs, DisasterRecovery
from components.features import FeaturesArgs
from components.features.aws import AwsFeaturesInputs, FeatureStore
from components.registry import RegistryArgs
from components.registry.aws import AwsRegistryInputs, ModelRegistry
from components.tracking import TrackingArgs
from components.tracking.aws import AwsTrackingInputs, TrackingServer

from .foundation import DR, NAME, PRIMARY, Foundation, foundation

VIEWS = ("driver_stats", "user_profile")


@dataclass
class DataPlatform:
    base: Foundation
    tracking: TrackingServer
    registry: ModelRegistry
    features: FeatureStore
    dr: Optional[DisasterRecovery]


def data_platform(*, prod: bool, dr: bool, in_cluster: bool = False) -> DataPlatform:
    base = foundation(dr=dr, protect=prod)
    environment = "prod" if prod else "dev"
    tags = {"environment": environment}
    tracking = TrackingServer("tracking", TrackingArgs(
        name=NAME, environment=environment, db_instance_class="db.r7g.large" if prod else "db.t4g.medium",
        db_allocated_storage_gb=100 if prod else 20, db_engine_version="16.6", multi_az=prod,
        backup_retention_days=14 if prod else 7, deletion_protection=prod, performance_insights=prod, tags=tags),
        AwsTrackingInputs(vpc_id=base.network.vpc_id, data_subnet_ids=base.network.data_subnet_ids,
                          cluster_security_group_id=base.cluster.cluster_security_group_id,
                          artifacts_key_arn=base.keys.artifacts.arn, database_key_arn=base.keys.database.arn,
                          logs_key_arn=base.keys.notifications.arn, irsa_role=base.cluster.irsa_role,
                          k8s_provider=base.cluster.k8s_provider if in_cluster else None),
        opts=base.opts)
    registry = ModelRegistry("registry", RegistryArgs(name=NAME, protect=prod, tags=tags),
                             AwsRegistryInputs(images_key_arn=base.keys.artifacts.arn), opts=base.opts)
    features = FeatureStore("features", FeaturesArgs(name=NAME, feast_project=f"mlops_{environment}",
                                                     online_feature_views=VIEWS, deletion_protection=prod, tags=tags),
                            AwsFeaturesInputs(region=PRIMARY, features_key_arn=base.keys.features.arn,
                                              irsa_role=base.cluster.irsa_role), opts=base.opts)
    recovery = None
    if dr:
        recovery = DisasterRecovery("dr", DrArgs(
            name=NAME, primary_region=PRIMARY, replica_region=DR, rpo_minutes=15, rto_minutes=60,
            network_cidr="10.41.0.0/16", performance_insights=prod, deletion_protection=prod, tags=tags),
            AwsDrInputs(dr_provider=base.dr, tracking=tracking, features=features, registry=registry,
                        dr_key_arns=base.keys.dr_key_arns), opts=base.opts)
        pulumi.export("dbReplicaId", recovery.db_replica_id)
        pulumi.export("dbReplicaArn", recovery.db_replica_arn)
        pulumi.export("artifactReplicaBucket", recovery.artifact_replica_bucket)
        pulumi.export("featureReplicaBucket", recovery.feature_replica_bucket)
        pulumi.export("replicationRoleArn", recovery.replication_role.arn)
        pulumi.export("imageCreationRoleArn", recovery.image_creation_role.arn)
    pulumi.export("dbArn", tracking.db_instance_arn)
    pulumi.export("dbId", tracking.db_instance_id)
    pulumi.export("dbAddress", tracking.db.address)
    pulumi.export("dbResourceId", tracking.db.resource_id)
    pulumi.export("dbSecretArn", tracking.db_master_secret_arn)
    pulumi.export("dbSecurityGroupId", tracking.db_security_group.id)
    pulumi.export("dataSubnetIds", base.network.data_subnet_ids)
    pulumi.export("artifactBucket", tracking.artifact_bucket)
    pulumi.export("artifactRoot", tracking.artifact_root)
    pulumi.export("trackingUrl", tracking.tracking_url)
    pulumi.export("record", tracking.db_endpoint_record)
    if in_cluster:
        pulumi.export("esoRoleArn", tracking.external_secrets_role.arn)
    pulumi.export("featureBucket", features.bucket_name)
    pulumi.export("tableArns", features.online_table_arns)
    return DataPlatform(base, tracking, registry, features, recovery)
