"""The prod stack's DR topology, created through the AWS APIs the stack itself would use.

Used against moto in-process (`mock_aws`) and against moto's server on 127.0.0.1. Where
moto 5.2.5 does not behave like AWS, `patch_moto_to_match_aws` adds the documented AWS
behaviour to the emulator (never to the code under test):

- RDS PromoteReadReplica: AWS drops ReadReplicaSourceDBInstanceIdentifier from the promoted
  instance and removes it from the source's ReadReplicaDBInstanceIdentifiers; moto keeps both.
- DynamoDB UpdateTable ReplicaUpdates (global tables 2019.11.21): AWS lists the replica under
  Table.Replicas with a ReplicaStatus; moto ignores ReplicaUpdates.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, Callable

import boto3
import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"
DR_REGION = "us-west-2"
PRIMARY_DB = "mlops-prod-tracking"
REPLICA_DB = "mlops-prod-tracking-replica"
ZONE_NAME = "mlops-prod.internal"
RECORD_NAME = f"tracking-db.{ZONE_NAME}"
ARTIFACTS, ARTIFACTS_REPLICA = "mlops-prod-artifacts", "mlops-prod-artifacts-replica"
FEATURES, FEATURES_REPLICA = "mlops-prod-features", "mlops-prod-features-replica"
ONLINE_TABLE = "mlops-prod-online-store"
REPOSITORIES = ("mlops-prod/models", "mlops-prod/training")
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
               "digest": "sha256:" + "b" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654,
                "digest": "sha256:" + "c" * 64}],
})

Clients = Callable[[str, str], Any]


@functools.lru_cache(maxsize=None)
def local_clients(service: str, region: str) -> Any:
    """Clients for in-process moto (`mock_aws`); cached because building one parses its model."""
    return boto3.client(service, region_name=region)


def patch_moto_to_match_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.rds.models import RDSBackend

    original_promote = RDSBackend.promote_read_replica

    def promote_read_replica(self, db_kwargs):
        database = self.databases[db_kwargs["db_instance_identifier"]]
        source_id = database.source_db_instance_identifier if database.is_replica else None
        result = original_promote(self, db_kwargs)
        if source_id:
            source = self.find_db_from_id(source_id)
            for reference in (database.db_instance_arn, database.db_instance_identifier):
                if reference in source.replicas:
                    source.replicas.remove(reference)
            database.source_db_instance_identifier = None
        return result

    original_update = DynamoHandler.update_table

    def update_table(self):
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        for update in self.body.get("ReplicaUpdates") or []:
            if "Create" in update:
                table.fidelity_replicas = getattr(table, "fidelity_replicas", []) + [update["Create"]["RegionName"]]
        return original_update(self)

    original_describe = Table.describe

    def describe(self, base_key: str = "TableDescription"):
        result = original_describe(self, base_key)
        replicas = getattr(self, "fidelity_replicas", [])
        if replicas:
            result[base_key]["Replicas"] = [{"RegionName": region, "ReplicaStatus": "ACTIVE"} for region in replicas]
        return result

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote_read_replica)
    monkeypatch.setattr(DynamoHandler, "update_table", update_table)
    monkeypatch.setattr(Table, "describe", describe)


def put_metric(clients: Clients, region: str, namespace: str, name: str, dimensions: dict[str, str],
               value: float, unit: str = "Seconds", minutes_ago: float = 0) -> None:
    clients("cloudwatch", region).put_metric_data(
        Namespace=namespace,
        MetricData=[{
            "MetricName": name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
            "Timestamp": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago),
            "Value": value,
            "Unit": unit,
        }],
    )


def put_replica_lag(clients: Clients, region: str, identifier: str, seconds: float, minutes_ago: float = 0) -> None:
    put_metric(clients, region, "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": identifier}, seconds,
               minutes_ago=minutes_ago)


def seed_prod_stack(clients: Clients, *, replica: bool = True, lag_seconds: float | None = 12.0) -> dict[str, Any]:
    """Primary in us-east-1, replicas in us-west-2, and the stack outputs that describe them."""
    ec2 = clients("ec2", REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    route53 = clients("route53", REGION)
    zone_id = route53.create_hosted_zone(
        Name=ZONE_NAME, CallerReference="mlops-prod", HostedZoneConfig={"PrivateZone": True, "Comment": "prod"},
        VPC={"VPCRegion": REGION, "VPCId": vpc_id},
    )["HostedZone"]["Id"].split("/")[-1]

    rds = clients("rds", REGION)
    primary = rds.create_db_instance(
        DBInstanceIdentifier=PRIMARY_DB, Engine="postgres", EngineVersion="16.4", DBInstanceClass="db.r6g.large",
        AllocatedStorage=100, MasterUsername="mlflow", MasterUserPassword="not-a-real-password",
        StorageEncrypted=True, KmsKeyId=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
        BackupRetentionPeriod=7, MultiAZ=True, Tags=[{"Key": "mlops:stack", "Value": "prod"}],
    )["DBInstance"]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE",
        "ResourceRecordSet": {"Name": RECORD_NAME, "Type": "CNAME", "TTL": 30,
                              "ResourceRecords": [{"Value": primary["Endpoint"]["Address"]}]},
    }]})
    if replica:
        clients("rds", DR_REGION).create_db_instance_read_replica(
            DBInstanceIdentifier=REPLICA_DB, SourceDBInstanceIdentifier=primary["DBInstanceArn"],
            DBInstanceClass="db.r6g.large", SourceRegion=REGION,
            KmsKeyId=f"arn:aws:kms:{DR_REGION}:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000",
        )
    if lag_seconds is not None:
        put_replica_lag(clients, DR_REGION, REPLICA_DB, lag_seconds)

    for source, target in ((ARTIFACTS, ARTIFACTS_REPLICA), (FEATURES, FEATURES_REPLICA)):
        clients("s3", REGION).create_bucket(Bucket=source)
        clients("s3", DR_REGION).create_bucket(Bucket=target, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
        for region, bucket in ((REGION, source), (DR_REGION, target)):
            clients("s3", region).put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        clients("s3", REGION).put_bucket_replication(Bucket=source, ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/mlops-prod-replication",
            "Rules": [{
                "ID": "dr", "Priority": 1, "Status": "Enabled", "Filter": {},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{target}",
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}},
            }],
        })
        put_metric(clients, REGION, "AWS/S3", "ReplicationLatency",
                   {"SourceBucket": source, "DestinationBucket": target, "RuleId": "dr"}, 40)

    clients("dynamodb", REGION).create_table(
        TableName=ONLINE_TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "entity_key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "entity_key", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    clients("dynamodb", REGION).update_table(TableName=ONLINE_TABLE, ReplicaUpdates=[{"Create": {"RegionName": DR_REGION}}])

    clients("ecr", REGION).put_replication_configuration(replicationConfiguration={"rules": [{
        "destinations": [{"region": DR_REGION, "registryId": ACCOUNT}],
        "repositoryFilters": [{"filter": "mlops-prod/", "filterType": "PREFIX_MATCH"}],
    }]})
    for region in (REGION, DR_REGION):
        for repository in REPOSITORIES:
            clients("ecr", region).create_repository(repositoryName=repository)
            clients("ecr", region).put_image(repositoryName=repository, imageManifest=MANIFEST, imageTag="v1")

    return prod_outputs(zone_id)


def prod_outputs(zone_id: str = "Z0123456789ABCDEFGHIJ") -> dict[str, Any]:
    """The AWS prod stack's outputs (the contract in DESIGN.md) for the topology above."""
    replica_arn = f"arn:aws:rds:{DR_REGION}:{ACCOUNT}:db:{REPLICA_DB}"
    return {
        "cloud": "aws", "environment": "prod", "region": REGION,
        "trackingUrl": "https://mlflow.prod.example.com",
        "artifactBucket": ARTIFACTS,
        "modelImageRepositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORIES[0]}",
        "trainingImageRepositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORIES[1]}",
        "featureRegistryPath": f"s3://{FEATURES}/registry.db",
        "featureOfflineStorePath": f"s3://{FEATURES}/offline",
        "onlineStoreTable": ONLINE_TABLE,
        "clusterName": "mlops-prod",
        "kubeconfig": "[secret]",
        "alertTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:mlops-prod-alerts",
        "trackingDbInstanceId": PRIMARY_DB,
        "trackingDbEndpointRecord": {"zoneId": zone_id, "name": RECORD_NAME},
        "dr": {
            "enabled": True, "region": DR_REGION, "rpoMinutes": 15, "rtoMinutes": 60,
            "dbReplicaId": REPLICA_DB, "dbReplicaArn": replica_arn,
            "artifactReplicaBucket": ARTIFACTS_REPLICA, "featureReplicaBucket": FEATURES_REPLICA,
            "onlineStoreReplicaRegion": DR_REGION, "imageReplicaRegion": DR_REGION,
        },
    }


def record_value(clients: Clients, outputs: dict[str, Any]) -> str:
    record = outputs["trackingDbEndpointRecord"]
    sets = clients("route53", REGION).list_resource_record_sets(HostedZoneId=record["zoneId"])["ResourceRecordSets"]
    (match,) = [s for s in sets if s["Name"] == record["name"] + "." and s["Type"] == "CNAME"]
    return match["ResourceRecords"][0]["Value"]


def instance(clients: Clients, region: str, identifier: str) -> dict[str, Any] | None:
    try:
        return clients("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except clients("rds", region).exceptions.DBInstanceNotFoundFault:
        return None
