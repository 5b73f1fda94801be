"""Features: registry/offline bucket from the shared hardened helper (features key), one DynamoDB
online table per declared view (features key, PITR, on-demand, streams), IRSA scoped to them."""

import pulumi
import pytest

from components.features import FeaturesArgs, online_table_name
from components.features.aws import AwsFeaturesInputs, FeatureStore
from stacks.config import ConfigError, load_config

from .foundation import NAME, PRIMARY, as_list, foundation, policy, preview, statements

VIEWS = ("driver_stats", "user_profile")


def program(prod: bool):
    def run():
        built = foundation(protect=prod)
        store = FeatureStore("features", FeaturesArgs(name=NAME, feast_project="mlops_test", online_feature_views=VIEWS,
                                                      deletion_protection=prod, tags={"environment": "test"}),
                             AwsFeaturesInputs(region=PRIMARY, features_key_arn=built.keys.features.arn,
                                               irsa_role=built.cluster.irsa_role), opts=built.opts)
        pulumi.export("bucket", store.bucket_name)
        pulumi.export("registryPath", store.registry_path)
        pulumi.export("offlinePath", store.offline_store_path)
        pulumi.export("tableArns", store.online_table_arns)
        pulumi.export("onlineStoreTable", store.online_store_table)
        pulumi.export("onlineStore", store.online_store)
    return run


@pytest.fixture(scope="module")
def prod():
    return preview(program(prod=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(prod=False))


def tables(result):
    return {t["inputs"]["name"]: t for t in result.by_type("aws:dynamodb/table:Table")}


def test_bucket_comes_from_the_shared_hardened_helper_with_the_features_key(prod):
    component = prod.one("mlops:features:FeatureStore")["urn"]
    [helper] = [r for r in prod.children(component) if r["type"] == "mlops:storage:SecureBucket"]
    kinds = sorted(r["type"].split(":")[-1] for r in prod.children(helper["urn"]))
    assert kinds == sorted(["Bucket", "BucketOwnershipControls", "BucketPublicAccessBlock", "BucketVersioning",
                            "BucketServerSideEncryptionConfiguration", "BucketPolicy", "BucketLifecycleConfiguration",
                            "BucketLogging", "SecureBucket"])  # access logs go to a companion SecureBucket
    sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "features-store-encryption")["inputs"]
    assert sse["bucket"] == prod.outputs["bucket"]
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == prod.outputs["key:features"]
    document = statements(policy(prod.one("aws:s3/bucketPolicy:BucketPolicy", "features-store-policy")))
    assert document["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_offline_store_tiers_down(prod):
    rules = {r["id"]: r for r in prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                                          "features-store-lifecycle")["inputs"]["rules"]}
    assert rules["tier-down-old-objects"]["filter"] == {"prefix": "offline/"}
    assert rules["expire-noncurrent-versions"]["filter"] == {}


def test_paths_follow_feast_layout(prod):
    bucket = prod.outputs["bucket"]
    assert prod.outputs["registryPath"] == f"s3://{bucket}/registry/registry.db"
    assert prod.outputs["offlinePath"] == f"s3://{bucket}/offline"
    assert prod.outputs["onlineStore"] == {"type": "dynamodb", "region": PRIMARY,
                                           "tags": {"component": "features", "environment": "test"}}


def test_one_online_table_per_view_named_as_feast_expects(prod):
    assert sorted(tables(prod)) == sorted(f"mlops_test.{view}" for view in VIEWS)
    assert prod.outputs["onlineStoreTable"] == "mlops_test.driver_stats"
    for table in tables(prod).values():
        inputs = table["inputs"]
        assert inputs["hashKey"] == "entity_id" and inputs["attributes"] == [{"name": "entity_id", "type": "S"}]


def test_online_tables_use_the_features_key_pitr_on_demand_and_replicable_streams(prod):
    for table in tables(prod).values():
        inputs = table["inputs"]
        assert inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": prod.outputs["key:features"]}
        assert inputs["pointInTimeRecovery"] == {"enabled": True}
        assert inputs["billingMode"] == "PAY_PER_REQUEST"
        assert inputs["streamEnabled"] is True and inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
        assert inputs["tags"]["component"] == "features"


def test_prod_tables_and_bucket_are_protected(prod, dev):
    for table in tables(prod).values():
        assert table["protect"] is True and table["inputs"]["deletionProtectionEnabled"] is True
    for table in tables(dev).values():
        assert table["protect"] is False and table["inputs"]["deletionProtectionEnabled"] is False
    assert prod.one("aws:s3/bucket:Bucket", "features-store")["protect"] is True


def test_feature_server_role_trusts_only_the_feast_service_account(prod):
    [statement] = policy(prod.one("aws:iam/role:Role", "features-feature-server"), "assumeRolePolicy")["Statement"]
    assert statement["Condition"]["StringEquals"][f"{prod.outputs['oidcIssuer']}:sub"] == "system:serviceaccount:mlops:feast"


def test_feature_server_reaches_exactly_these_tables_and_prefixes(prod):
    bucket_arn = f"arn:aws:s3:::{prod.outputs['bucket']}"
    document = policy(prod.one("aws:iam/rolePolicy:RolePolicy", "features-feature-server"))
    by_sid = statements(document)
    table_arns = sorted(prod.outputs["tableArns"].values())
    assert sorted(by_sid["OnlineItems"]["Resource"]) == table_arns
    assert not {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable"} & set(by_sid["OnlineItems"]["Action"])
    assert by_sid["ReadWriteOfflineStore"]["Resource"] == f"{bucket_arn}/offline/*"
    assert by_sid["ListFeastPrefixes"]["Resource"] == bucket_arn
    assert by_sid["ListFeastPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["registry/*", "offline/*"]}}
    key = by_sid["FeaturesKeyThroughS3AndDynamoDb"]
    assert key["Resource"] == prod.outputs["key:features"]
    assert sorted(key["Condition"]["StringEquals"]["kms:ViaService"]) == [
        f"dynamodb.{PRIMARY}.amazonaws.com", f"s3.{PRIMARY}.amazonaws.com"]
    for statement in document["Statement"]:
        assert all("*" not in action for action in as_list(statement["Action"]))
        assert all(resource != "*" for resource in as_list(statement["Resource"]))


def test_feast_registry_store_can_find_the_bucket_and_commit_the_registry(prod):
    """Feast's S3 registry store: HeadBucket (authorised as s3:ListBucket with no s3:prefix), then Get/Put of the
    one registry object (the first start commits an empty registry); `feast apply` calls CreateTable and takes
    ResourceInUseException for "exists", which AWS only returns to a caller allowed to CreateTable."""
    bucket_arn = f"arn:aws:s3:::{prod.outputs['bucket']}"
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "features-feature-server")))
    assert by_sid["FindBucket"]["Action"] == "s3:ListBucket" and by_sid["FindBucket"]["Resource"] == bucket_arn
    assert by_sid["FindBucket"]["Condition"] == {"Null": {"s3:prefix": "true"}}
    assert sorted(by_sid["ReadWriteRegistry"]["Action"]) == ["s3:GetObject", "s3:PutObject"]
    assert by_sid["ReadWriteRegistry"]["Resource"] == f"{bucket_arn}/registry/registry.db"
    assert by_sid["ApplyFindsDeclaredTables"]["Action"] == "dynamodb:CreateTable"
    assert sorted(by_sid["ApplyFindsDeclaredTables"]["Resource"]) == sorted(prod.outputs["tableArns"].values())


def test_feast_apply_keeps_the_platform_tags_of_the_online_tables(prod):
    """Feast 0.50's apply untags an existing table and tags it with online_store.tags: those are the tables' tags."""
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "features-feature-server")))
    assert sorted(by_sid["ApplyRewritesTableTags"]["Action"]) == [
        "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource"]
    assert sorted(by_sid["ApplyRewritesTableTags"]["Resource"]) == sorted(prod.outputs["tableArns"].values())
    for table in tables(prod).values():
        assert table["inputs"]["tags"] == prod.outputs["onlineStore"]["tags"]


def test_feature_views_are_validated_in_the_stack_config():
    base = {"mlops:cloud": "aws", "mlops:region": "us-east-1"}
    cfg = load_config("dev", {**base, "mlops:features": '{"onlineFeatureViews": ["driver_stats"]}'})
    args = FeaturesArgs.from_config(cfg, NAME, {})
    assert args.feast_project == "mlops_dev" and args.online_table_names == {"driver_stats": "mlops_dev.driver_stats"}
    with pytest.raises(ConfigError) as error:
        load_config("dev", {**base, "mlops:features": '{"onlineFeatureViews": ["Driver-Stats"]}'})
    assert error.value.problems == ["Pulumi.dev.yaml: mlops:features.onlineFeatureViews = [\"Driver-Stats\"]: "
                                    "'Driver-Stats' is not a feature view name (lowercase letters, digits, _; starts with a letter)"]
    assert online_table_name("p", "v") == "p.v"
    with pytest.raises(ValueError, match="unique"):
        FeaturesArgs(name=NAME, feast_project="p", online_feature_views=("a", "a"))


def test_bucket_requests_are_logged_into_a_companion_bucket_only_the_logging_service_writes(prod):
    logging = prod.one("aws:s3/bucketLogging:BucketLogging", "features-store-access-logging")["inputs"]
    log_bucket = prod.one("aws:s3/bucketPolicy:BucketPolicy", "features-store-logs-policy")["inputs"]["bucket"]
    assert logging["bucket"] == prod.outputs["bucket"] and logging["targetBucket"] == log_bucket != prod.outputs["bucket"]
    assert logging["targetObjectKeyFormat"] == {"partitionedPrefix": {"partitionDateSource": "EventTime"}}
    document = statements(policy(prod.one("aws:s3/bucketPolicy:BucketPolicy", "features-store-logs-policy")))
    delivery = document["S3ServerAccessLogsDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == f"arn:aws:s3:::{log_bucket}/*"
    assert delivery["Condition"]["ArnEquals"] == {"aws:SourceArn": f"arn:aws:s3:::{prod.outputs['bucket']}"}
    assert document["DenyInsecureTransport"]["Resource"] == [f"arn:aws:s3:::{log_bucket}", f"arn:aws:s3:::{log_bucket}/*"]
    # Encrypted with the features key, and not logged itself (that would loop).
    sse = prod.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                   "features-store-logs-encryption")["inputs"]
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == prod.outputs["key:features"]
    assert [r["name"] for r in prod.by_type("aws:s3/bucketLogging:BucketLogging")] == ["features-store-access-logging"]
    # The source bucket's own policy lets nobody but the account in.
    assert "S3ServerAccessLogsDelivery" not in statements(policy(prod.one("aws:s3/bucketPolicy:BucketPolicy", "features-store-policy")))
