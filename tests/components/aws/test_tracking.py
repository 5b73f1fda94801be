"""Tracking: RDS backend (CMK, managed secret, IAM auth, TLS, private), hardened artifact bucket,
private DNS record, IRSA scoped to the prefix and the DB user, ESO syncing the DB URI."""

import pytest

from components.storage import BucketArgs
from components.tracking import postgres_major, tracking_url
from components.tracking.aws import ESO_CHART_VERSION

from .data_platform import data_platform
from .foundation import NAME, PRIMARY, as_list, policy, preview, statements

ACCOUNT = "123456789012"


def program(prod: bool, in_cluster: bool):
    return lambda: data_platform(prod=prod, dr=False, in_cluster=in_cluster)


@pytest.fixture(scope="module")
def prod():
    return preview(program(prod=True, in_cluster=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(prod=False, in_cluster=False))


def db(result):
    return result.one("aws:rds/instance:Instance", "tracking-db")


def child(result, type_token, name):
    return result.one(type_token, name)["inputs"]


def actions_and_resources(document):
    for statement in document["Statement"]:
        yield from (("action", a) for a in as_list(statement.get("Action", [])))
        yield from (("resource", r) for r in as_list(statement.get("Resource", [])))


# --- artifact bucket (the shared hardened-bucket helper) ---------------------------------------

def test_artifact_bucket_is_encrypted_with_the_artifacts_key_and_bucket_key(prod):
    bucket = prod.outputs["artifactBucket"]
    sse = child(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "tracking-artifacts-encryption")
    assert sse["bucket"] == bucket
    [rule] = sse["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": prod.outputs["key:artifacts"]}
    assert rule["bucketKeyEnabled"] is True


def test_artifact_bucket_is_versioned_private_and_owner_enforced(prod):
    assert child(prod, "aws:s3/bucketVersioning:BucketVersioning", "tracking-artifacts-versioning")[
        "versioningConfiguration"] == {"status": "Enabled"}
    block = child(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "tracking-artifacts-public-access")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    ownership = child(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "tracking-artifacts-ownership")
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_artifact_bucket_policy_denies_plain_http_old_tls_and_other_keys(prod):
    bucket_arn = f"arn:aws:s3:::{prod.outputs['artifactBucket']}"
    document = statements(policy(prod.one("aws:s3/bucketPolicy:BucketPolicy", "tracking-artifacts-policy")))
    tls = document["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Resource"] == [bucket_arn, f"{bucket_arn}/*"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert document["DenyOutdatedTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    other_keys = document["DenyOtherKmsKeys"]
    assert other_keys["Condition"]["StringNotEqualsIfExists"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": prod.outputs["key:artifacts"]}
    assert all(s["Effect"] == "Deny" for s in document.values())


def test_artifact_lifecycle_expires_noncurrent_versions_and_tiers_old_objects_down(prod):
    rules = {r["id"]: r for r in child(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                       "tracking-artifacts-lifecycle")["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert rules["expire-noncurrent-versions"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert rules["tier-down-old-objects"]["transitions"] == [
        {"days": 30, "storageClass": "STANDARD_IA"}, {"days": 180, "storageClass": "GLACIER_IR"}]
    assert all(r["status"] == "Enabled" for r in rules.values())


def test_prod_bucket_is_protected_and_never_force_destroyed(prod, dev):
    prod_bucket = prod.one("aws:s3/bucket:Bucket", "tracking-artifacts")
    assert prod_bucket["protect"] is True and prod_bucket["inputs"]["forceDestroy"] is False
    assert prod_bucket["inputs"]["bucketPrefix"] == f"{NAME}-artifacts-"
    dev_bucket = dev.one("aws:s3/bucket:Bucket", "tracking-artifacts")
    assert dev_bucket["protect"] is False and dev_bucket["inputs"]["forceDestroy"] is True


def test_bucket_args_refuse_impossible_lifecycles():
    with pytest.raises(ValueError, match="infrequent_access_after_days must be >= 30"):
        BucketArgs(name="b-x", infrequent_access_after_days=7)
    with pytest.raises(ValueError, match="archive_after_days must be later"):
        BucketArgs(name="b-x", infrequent_access_after_days=60, archive_after_days=60)
    with pytest.raises(ValueError, match="never force-destroyed"):
        BucketArgs(name="b-x", force_destroy=True, protect=True)
    with pytest.raises(ValueError, match="3-36 characters"):
        BucketArgs(name="x" * 40)


# --- database ---------------------------------------------------------------------------------

def test_database_storage_and_master_secret_use_the_database_key(prod):
    inputs = db(prod)["inputs"]
    assert inputs["storageEncrypted"] is True
    assert inputs["kmsKeyId"] == prod.outputs["key:database"]
    assert inputs["manageMasterUserPassword"] is True
    assert inputs["masterUserSecretKmsKeyId"] == prod.outputs["key:database"]
    assert "password" not in inputs


def test_database_is_private_iam_authenticated_and_tls_only(prod):
    inputs = db(prod)["inputs"]
    assert inputs["publiclyAccessible"] is False
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    params = child(prod, "aws:rds/parameterGroup:ParameterGroup", "tracking-db")
    assert params["family"] == "postgres16"
    assert {"name": "rds.force_ssl", "value": "1", "applyMethod": "pending-reboot"} in params["parameters"]
    assert inputs["parameterGroupName"] == params["name"]
    subnets = child(prod, "aws:rds/subnetGroup:SubnetGroup", "tracking-db")
    assert subnets["subnetIds"] == prod.outputs["dataSubnetIds"]
    assert inputs["dbSubnetGroupName"] == subnets["name"]


def test_database_accepts_only_the_cluster_security_group_on_5432(prod):
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", "tracking-db")
    assert not group["inputs"].get("ingress") and not group["inputs"].get("egress")
    [rule] = [r for r in prod.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
              if r["parent"] == prod.one("mlops:tracking:TrackingServer")["urn"]]
    inputs = rule["inputs"]
    assert inputs["referencedSecurityGroupId"] == prod.outputs["clusterSecurityGroupId"]
    assert (inputs["ipProtocol"], inputs["fromPort"], inputs["toPort"]) == ("tcp", 5432, 5432)
    assert "cidrIpv4" not in inputs and inputs["securityGroupId"] == prod.outputs["dbSecurityGroupId"]
    assert db(prod)["inputs"]["vpcSecurityGroupIds"] == [prod.outputs["dbSecurityGroupId"]]


def test_prod_database_is_highly_available_protected_backed_up_and_insightful(prod):
    record = db(prod)
    inputs = record["inputs"]
    assert record["protect"] is True
    assert inputs["multiAz"] is True and inputs["deletionProtection"] is True
    assert inputs["backupRetentionPeriod"] >= 14
    assert inputs["skipFinalSnapshot"] is False and inputs["finalSnapshotIdentifier"] == f"{NAME}-tracking-final"
    assert inputs["performanceInsightsEnabled"] is True
    assert inputs["performanceInsightsKmsKeyId"] == prod.outputs["key:database"]
    assert inputs["engine"] == "postgres" and inputs["engineVersion"] == "16.6"
    assert inputs["maxAllocatedStorage"] == 400


def test_dev_database_is_single_az_without_insights_but_still_keeps_a_final_snapshot(dev):
    inputs = db(dev)["inputs"]
    assert inputs["multiAz"] is False and inputs["deletionProtection"] is False and db(dev)["protect"] is False
    assert "performanceInsightsEnabled" not in inputs
    assert inputs["skipFinalSnapshot"] is False


def test_database_logs_go_to_encrypted_expiring_groups_created_first(prod):
    for log in ("postgresql", "upgrade"):
        group = prod.one("aws:cloudwatch/logGroup:LogGroup", f"tracking-db-{log}")
        assert group["inputs"]["name"] == f"/aws/rds/instance/{NAME}-tracking/{log}"
        assert group["inputs"]["kmsKeyId"] == prod.outputs["key:notifications"]
        assert group["urn"] in db(prod)["dependencies"]
    assert db(prod)["inputs"]["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]


def test_private_cname_points_at_the_database_and_is_the_exported_record(prod):
    zone = prod.one("aws:route53/zone:Zone", "tracking-internal")["inputs"]
    assert zone["name"] == "prod.mlops.internal"
    assert zone["vpcs"] == [{"vpcId": prod.outputs["vpcId"]}]
    record = child(prod, "aws:route53/record:Record", "tracking-db")
    assert (record["name"], record["type"], record["ttl"]) == ("tracking-db.prod.mlops.internal", "CNAME", 60)
    assert record["records"] == [prod.outputs["dbAddress"]]
    assert prod.outputs["record"]["name"] == "tracking-db.prod.mlops.internal"
    assert prod.outputs["record"]["zone_id"].startswith("Z")


# --- identities --------------------------------------------------------------------------------

def trust(result, role_name):
    [statement] = policy(result.one("aws:iam/role:Role", role_name), "assumeRolePolicy")["Statement"]
    return statement


def test_mlflow_role_trusts_only_the_mlflow_service_account(prod):
    statement = trust(prod, "tracking-mlflow")
    assert statement["Principal"] == {"Federated": prod.outputs["oidcProviderArn"]}
    assert statement["Condition"]["StringEquals"] == {
        f"{prod.outputs['oidcIssuer']}:sub": "system:serviceaccount:mlops:mlflow",
        f"{prod.outputs['oidcIssuer']}:aud": "sts.amazonaws.com"}


def test_mlflow_role_reaches_only_its_prefix_its_key_and_its_database_user(prod):
    bucket_arn = f"arn:aws:s3:::{prod.outputs['artifactBucket']}"
    document = policy(prod.one("aws:iam/rolePolicy:RolePolicy", "tracking-mlflow"))
    by_sid = statements(document)
    assert by_sid["ListArtifactPrefix"]["Resource"] == bucket_arn
    assert by_sid["ListArtifactPrefix"]["Condition"] == {"StringLike": {"s3:prefix": ["mlflow", "mlflow/*"]}}
    assert by_sid["ReadWriteArtifacts"]["Resource"] == f"{bucket_arn}/mlflow/*"
    assert by_sid["ArtifactsKeyThroughS3"]["Resource"] == prod.outputs["key:artifacts"]
    assert by_sid["ArtifactsKeyThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{PRIMARY}.amazonaws.com"}}
    assert by_sid["ConnectAsTrackingUser"]["Action"] == "rds-db:connect"
    assert by_sid["ConnectAsTrackingUser"]["Resource"] == (
        f"arn:aws:rds-db:{PRIMARY}:{ACCOUNT}:dbuser:{prod.outputs['dbResourceId']}/mlflow")
    assert all("*" not in value for kind, value in actions_and_resources(document) if kind == "action")
    assert prod.outputs["artifactRoot"] == f"s3://{prod.outputs['artifactBucket']}/mlflow"


# --- database URI synced into the cluster -------------------------------------------------------

def test_external_secrets_is_a_pinned_release_whose_role_reads_exactly_the_db_secret(prod):
    release = child(prod, "kubernetes:helm.sh/v3:Release", "tracking-external-secrets")
    assert release["chart"] == "external-secrets" and release["version"] == ESO_CHART_VERSION
    assert release["repositoryOpts"] == {"repo": "https://charts.external-secrets.io"}
    assert release["values"]["serviceAccount"] == {
        "create": True, "name": "external-secrets",
        "annotations": {"eks.amazonaws.com/role-arn": prod.outputs["esoRoleArn"]}}
    assert trust(prod, "tracking-external-secrets")["Condition"]["StringEquals"][
        f"{prod.outputs['oidcIssuer']}:sub"] == "system:serviceaccount:external-secrets:external-secrets"
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "tracking-external-secrets")))
    assert by_sid["ReadTrackingDbSecret"]["Resource"] == prod.outputs["dbSecretArn"]
    assert sorted(by_sid["ReadTrackingDbSecret"]["Action"]) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert by_sid["DecryptThroughSecretsManager"]["Resource"] == prod.outputs["key:database"]
    assert by_sid["DecryptThroughSecretsManager"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{PRIMARY}.amazonaws.com"}}


def test_external_secret_renders_the_tls_uri_through_the_private_record(prod):
    secret = prod.one("kubernetes:external-secrets.io/v1:ExternalSecret", "tracking-db-uri")
    inputs = secret["inputs"]
    assert inputs["metadata"] == {"name": "mlflow-database", "namespace": "mlops"}
    assert inputs["spec"]["dataFrom"] == [{"extract": {"key": prod.outputs["dbSecretArn"]}}]
    template = inputs["spec"]["target"]["template"]["data"]["uri"]
    assert template == ("postgresql+psycopg2://{{ .username | urlquery }}:{{ .password | urlquery }}"
                        "@tracking-db.prod.mlops.internal:5432/mlflow?sslmode=require")
    store = prod.one("kubernetes:external-secrets.io/v1:ClusterSecretStore", "tracking-secret-store")
    assert inputs["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store["inputs"]["metadata"]["name"]}
    assert store["inputs"]["spec"]["provider"] == {"aws": {"service": "SecretsManager", "region": PRIMARY}}
    assert store["inputs"]["spec"]["conditions"] == [{"namespaces": ["mlops"]}]
    release = prod.one("kubernetes:helm.sh/v3:Release", "tracking-external-secrets")["urn"]
    assert release in secret["dependencies"] and release in store["dependencies"]


def test_without_a_cluster_provider_only_cloud_resources_are_built(dev):
    assert not [r for r in dev.resources if r["type"].startswith("kubernetes:")
                and "tracking" in r["name"]]
    assert not [r for r in dev.by_type("aws:iam/role:Role") if r["name"] == "tracking-external-secrets"]


# --- shape and contract -------------------------------------------------------------------------

def test_every_child_hangs_under_the_component_and_carries_the_component_tag(prod):
    component = prod.one("mlops:tracking:TrackingServer")
    descendants, frontier = [], [component["urn"]]
    while frontier:
        kids = prod.children(frontier.pop())
        descendants += kids
        frontier += [k["urn"] for k in kids]
    assert len(descendants) >= 20
    taggable = [r for r in descendants if r["type"].startswith("aws:") and "tags" in r["inputs"]]
    assert taggable and all(r["inputs"]["tags"].get("component") == "tracking" for r in taggable)
    assert all(r["inputs"]["tags"]["environment"] == "prod" for r in taggable)


def test_tracking_url_is_the_in_cluster_service(prod):
    assert prod.outputs["trackingUrl"] == tracking_url() == "http://mlflow.mlops.svc.cluster.local:5000"


def test_engine_versions_map_to_parameter_group_families():
    assert postgres_major("16.6") == "16" and postgres_major("17") == "17"
    with pytest.raises(ValueError, match="is not like"):
        postgres_major("latest")
