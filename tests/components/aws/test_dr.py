"""DR: every replica in the DR region through the DR provider, encrypted with the DR twin of its
domain key; replication scoped to exactly the replicated buckets and keys; runbook outputs."""

import json

import pytest

from components.dr import DrArgs, dr_outputs
from components.dr.aws import AwsDrInputs, DisasterRecovery
from mlops_tools.engine.mocks import arn_region
from mlops_tools.engine.preview import PreviewError
from stacks.config import load_config

from .data_platform import VIEWS, data_platform
from .foundation import DR, NAME, PRIMARY, as_list, bound_to, policy, preview, provider_urn, statements

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def prod():
    return preview(lambda: data_platform(prod=True, dr=True))


def descendants(result, type_token="mlops:dr:DisasterRecovery"):
    found, frontier = [], [result.one(type_token)["urn"]]
    while frontier:
        kids = result.children(frontier.pop())
        found += kids
        frontier += [k["urn"] for k in kids]
    return found


PRIMARY_SIDE = {"aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                "aws:ecr/replicationConfiguration:ReplicationConfiguration",
                "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"}


def test_every_replica_is_bound_to_the_dr_provider_and_the_rest_to_primary(prod):
    dr, primary = provider_urn(prod, "dr"), provider_urn(prod, "primary")
    component = prod.one("mlops:dr:DisasterRecovery")["urn"]
    resources = [r for r in descendants(prod) if r["custom"]]
    assert len(resources) > 30
    for resource in resources:
        # Replication settings live on the primary side (IAM is global); everything else, including
        # the DR network's own flow-log role, is created through the DR provider.
        on_primary = resource["type"] in PRIMARY_SIDE and resource["parent"] == component
        expected = primary if on_primary else dr
        assert bound_to(resource, expected), f"{resource['type']} {resource['name']} is not bound to {expected}"
    assert prod.one("pulumi:providers:aws", "dr")["inputs"]["region"] == DR
    assert arn_region(prod.outputs["dbReplicaArn"]) == DR and arn_region(prod.outputs["dbArn"]) == PRIMARY


def test_replica_buckets_are_hardened_and_encrypted_with_the_dr_keys(prod):
    for kind, output in (("artifacts", "artifactReplicaBucket"), ("features", "featureReplicaBucket")):
        sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                       f"dr-{kind}-replica-encryption")["inputs"]
        assert sse["bucket"] == prod.outputs[output]
        key = sse["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        assert key == prod.outputs[f"replica:{kind}"] and arn_region(key) == DR
        assert prod.one("aws:s3/bucketVersioning:BucketVersioning", f"dr-{kind}-replica-versioning")[
            "inputs"]["versioningConfiguration"] == {"status": "Enabled"}
        document = statements(policy(prod.one("aws:s3/bucketPolicy:BucketPolicy", f"dr-{kind}-replica-policy")))
        assert document["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"dr-{kind}-replica-public-access")
        assert block["inputs"]["restrictPublicBuckets"] is True and block["inputs"]["blockPublicPolicy"] is True
        assert prod.one("aws:s3/bucket:Bucket", f"dr-{kind}-replica")["protect"] is True


@pytest.mark.parametrize("kind,source,replica", [("artifacts", "artifactBucket", "artifactReplicaBucket"),
                                                 ("features", "featureBucket", "featureReplicaBucket")])
def test_replication_rule_reencrypts_with_the_dr_key_with_rtc_and_delete_markers(prod, kind, source, replica):
    config = prod.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig", f"dr-{kind}-to-{DR}")
    inputs = config["inputs"]
    assert inputs["bucket"] == prod.outputs[source]
    assert inputs["role"] == prod.outputs["replicationRoleArn"]
    [rule] = inputs["rules"]
    assert rule["status"] == "Enabled" and rule["filter"] == {}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["bucket"] == f"arn:aws:s3:::{prod.outputs[replica]}"
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": prod.outputs[f"replica:{kind}"]}
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}
    versioning = {prod.one("aws:s3/bucketVersioning:BucketVersioning", name)["urn"]
                  for name in (f"dr-{kind}-replica-versioning",
                               "tracking-artifacts-versioning" if kind == "artifacts" else "features-store-versioning")}
    assert versioning <= set(config["dependencies"])


def test_replication_role_is_scoped_to_exactly_the_buckets_and_keys(prod):
    [trust] = policy(prod.one("aws:iam/role:Role", "dr-replication"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    sources = [f"arn:aws:s3:::{prod.outputs[k]}" for k in ("artifactBucket", "featureBucket")]
    replicas = [f"arn:aws:s3:::{prod.outputs[k]}" for k in ("artifactReplicaBucket", "featureReplicaBucket")]
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "dr-replication")))
    assert by_sid["ReadReplicationConfiguration"]["Resource"] == sources
    assert by_sid["ReadSourceVersions"]["Resource"] == [f"{b}/*" for b in sources]
    assert by_sid["WriteReplicas"]["Resource"] == [f"{b}/*" for b in replicas]
    decrypt = by_sid["DecryptSourceObjects"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == [prod.outputs["key:artifacts"], prod.outputs["key:features"]]
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{PRIMARY}.amazonaws.com"}
    assert sorted(decrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]) == sorted(
        sources + [f"{b}/*" for b in sources])
    encrypt = by_sid["EncryptReplicas"]
    assert encrypt["Resource"] == [prod.outputs["replica:artifacts"], prod.outputs["replica:features"]]
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{DR}.amazonaws.com"}
    for statement in by_sid.values():
        assert all(r != "*" for r in as_list(statement["Resource"]))


def test_database_replica_follows_the_primary_encrypted_with_the_dr_database_key(prod):
    replica = prod.one("aws:rds/instance:Instance", "dr-db")
    inputs = replica["inputs"]
    assert inputs["replicateSourceDb"] == prod.outputs["dbArn"]
    assert inputs["storageEncrypted"] is True and inputs["kmsKeyId"] == prod.outputs["replica:database"]
    assert inputs["performanceInsightsKmsKeyId"] == prod.outputs["replica:database"]
    assert inputs["publiclyAccessible"] is False and inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["deletionProtection"] is True and replica["protect"] is True
    assert "backupRetentionPeriod" not in inputs  # RDS refuses automated backups on PostgreSQL replicas
    assert "manageMasterUserPassword" not in inputs and "password" not in inputs
    assert prod.outputs["dbReplicaId"] == f"{NAME}-tracking-dr"
    subnet_group = prod.one("aws:rds/subnetGroup:SubnetGroup", "dr-db")["inputs"]
    assert inputs["dbSubnetGroupName"] == subnet_group["name"]
    params = prod.one("aws:rds/parameterGroup:ParameterGroup", "dr-db")["inputs"]
    assert params["family"] == "postgres16" and {"name": "rds.force_ssl", "value": "1",
                                                 "applyMethod": "pending-reboot"} in params["parameters"]


def test_replica_security_group_is_closed_until_failover(prod):
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", "dr-db")["inputs"]
    assert not group.get("ingress") and not group.get("egress")
    dr_urns = {r["urn"] for r in descendants(prod)}
    assert not [r for r in prod.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") if r["urn"] in dr_urns]


def test_dr_network_is_data_only_with_flow_logs(prod):
    network = [r for r in descendants(prod) if r["type"] == "mlops:network:Network"]
    assert len(network) == 1
    types = {r["type"] for r in prod.children(network[0]["urn"])}
    assert "aws:ec2/natGateway:NatGateway" not in types and "aws:ec2/internetGateway:InternetGateway" not in types
    assert "aws:ec2/vpcEndpoint:VpcEndpoint" not in types and "aws:ec2/flowLog:FlowLog" in types
    subnets = [r for r in prod.children(network[0]["urn"]) if r["type"] == "aws:ec2/subnet:Subnet"]
    assert sorted(s["inputs"]["availabilityZone"] for s in subnets) == [f"{DR}a", f"{DR}b"]
    assert all(s["inputs"]["cidrBlock"].startswith("10.41.") for s in subnets)
    logs = [r for r in prod.children(network[0]["urn"]) if r["type"] == "aws:cloudwatch/logGroup:LogGroup"]
    assert [g["inputs"]["kmsKeyId"] for g in logs] == [prod.outputs["replica:notifications"]]


def test_images_replicate_into_immutable_repositories_encrypted_with_the_dr_artifacts_key(prod):
    replication = prod.one("aws:ecr/replicationConfiguration:ReplicationConfiguration")["inputs"]
    [rule] = replication["replicationConfiguration"]["rules"]
    assert rule["destinations"] == [{"region": DR, "registryId": ACCOUNT}]
    assert rule["repositoryFilters"] == [{"filter": NAME, "filterType": "PREFIX_MATCH"}]
    template = prod.one("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    inputs = template["inputs"]
    assert inputs["prefix"] == NAME and inputs["appliedFors"] == ["REPLICATION"]
    assert inputs["imageTagMutability"] == "IMMUTABLE"
    assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": prod.outputs["replica:artifacts"]}]
    assert json.loads(inputs["lifecyclePolicy"])["rules"][0]["selection"]["tagStatus"] == "untagged"
    assert template["urn"] in prod.one("aws:ecr/replicationConfiguration:ReplicationConfiguration")["dependencies"]
    [trust] = policy(prod.one("aws:iam/role:Role", "dr-ecr-creation"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "ecr.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert inputs["customRoleArn"] == prod.outputs["imageCreationRoleArn"]
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "dr-ecr-creation")))
    assert by_sid["CreateReplicatedRepositories"]["Resource"] == f"arn:aws:ecr:{DR}:{ACCOUNT}:repository/{NAME}/*"
    assert by_sid["EncryptWithDrArtifactsKey"]["Resource"] == prod.outputs["replica:artifacts"]


def test_online_tables_get_a_dr_replica_with_the_dr_features_key(prod):
    replicas = {r["name"]: r for r in prod.by_type("aws:dynamodb/tableReplica:TableReplica")}
    assert sorted(replicas) == sorted(f"dr-online-{view}" for view in VIEWS)
    for view in VIEWS:
        inputs = replicas[f"dr-online-{view}"]["inputs"]
        assert inputs["globalTableArn"] == prod.outputs["tableArns"][view]
        assert inputs["kmsKeyArn"] == prod.outputs["replica:features"]
        assert inputs["pointInTimeRecovery"] is True and inputs["deletionProtectionEnabled"] is True


def test_runbook_outputs_name_the_replicas_or_null_without_dr():
    base = {"mlops:cloud": "aws", "mlops:region": "us-east-1"}
    off = dr_outputs(load_config("dev", base))
    assert off == {"enabled": False, "region": None, "rpoMinutes": 15, "rtoMinutes": 60, "dbReplicaId": None,
                   "dbReplicaArn": None, "artifactReplicaBucket": None, "featureReplicaBucket": None,
                   "onlineStoreReplicaRegion": None, "imageReplicaRegion": None}
    cfg = load_config("prod", {**base, "mlops:dr": '{"enabled": true, "replicaRegion": "us-west-2", "rpoMinutes": 30, "rtoMinutes": 120}'})
    args = DrArgs.from_config(cfg, NAME, {})
    assert (args.replica_region, args.rpo_minutes, args.rto_minutes, args.network_cidr) == (DR, 30, 120, "10.41.0.0/16")

    class Replicas:
        db_replica_id, db_replica_arn = "db-dr", f"arn:aws:rds:{DR}:{ACCOUNT}:db:db-dr"
        artifact_replica_bucket, feature_replica_bucket = "a-dr", "f-dr"
        online_store_replica_region = image_replica_region = DR

    on = dr_outputs(cfg, Replicas())
    assert on["enabled"] is True and on["region"] == DR and on["rpoMinutes"] == 30
    assert (on["dbReplicaId"], on["artifactReplicaBucket"], on["imageReplicaRegion"]) == ("db-dr", "a-dr", DR)


def test_dr_without_replica_keys_fails_with_one_clear_message():
    def run():
        platform = data_platform(prod=False, dr=False)
        DisasterRecovery("dr", DrArgs(name=NAME, primary_region=PRIMARY, replica_region=DR, rpo_minutes=15,
                                      rto_minutes=60, network_cidr="10.41.0.0/16"),
                         AwsDrInputs(dr_provider=platform.base.primary, tracking=platform.tracking,
                                     features=platform.features, registry=platform.registry,
                                     dr_key_arns=platform.base.keys.dr_key_arns), opts=platform.base.opts)
    with pytest.raises(PreviewError, match="no DR-region key for artifacts, database, features, notifications"):
        preview(run)
    with pytest.raises(ValueError, match="must differ"):
        DrArgs(name=NAME, primary_region=PRIMARY, replica_region=PRIMARY, rpo_minutes=15, rto_minutes=60,
               network_cidr="10.41.0.0/16")
