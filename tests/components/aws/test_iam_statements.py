"""components.aws_iam: each shared statement grants exactly what it says and nothing next to it.

Decided by the smoke run's IAM evaluator (mlops_tools/smoke/iam_aws.py: AWS's rules for the forms our
policies use), on the statement as the builder writes it. Not on moto's server: moto authorises every
KMS call against resource "*", so a key-scoped grant would be refused there whatever its condition says,
and its S3 never calls KMS as the caller (tests/smoke/test_iam_aws.py decides the plan's key statements
the same way).
"""

from __future__ import annotations

import json

import pulumi
import pytest

from components.aws_iam import (S3_PREFIX_OWNER_ACTIONS, kms_via_service, s3_find_bucket, s3_list, s3_objects,
                                service_endpoint)
from components.documents import json_document
from mlops_tools.engine.preview import preview_program
from mlops_tools.smoke.iam_aws import is_allowed

REGION = "eu-west-1"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1111aaaa-2222-3333-4444-555566667777"
OTHER_KEY = "arn:aws:kms:eu-west-1:123456789012:key/9999ffff-2222-3333-4444-555566667777"
BUCKET = "arn:aws:s3:::mlops-artifacts"
VIA_S3 = {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}


def allows(statement: dict, action: str, resource: str, context: dict | None = None) -> bool:
    return is_allowed([{"Version": "2012-10-17", "Statement": [statement]}], action, resource, context or {})


# --- kms_via_service ------------------------------------------------------------------------------

def test_kms_statement_allows_exactly_the_listed_actions_on_that_key_through_s3_in_that_region():
    statement = kms_via_service("ArtifactsKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], KEY, "s3", REGION)
    assert allows(statement, "kms:Decrypt", KEY, VIA_S3)
    assert allows(statement, "kms:GenerateDataKey", KEY, VIA_S3)
    assert not allows(statement, "kms:Encrypt", KEY, VIA_S3)  # not listed
    assert not allows(statement, "kms:ScheduleKeyDeletion", KEY, VIA_S3)
    assert not allows(statement, "kms:Decrypt", OTHER_KEY, VIA_S3)  # another key
    assert not allows(statement, "kms:Decrypt", KEY, {})  # KMS called directly, not through S3
    assert not allows(statement, "kms:Decrypt", KEY, {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]})  # other region
    assert not allows(statement, "kms:Decrypt", KEY, {"kms:ViaService": [f"dynamodb.{REGION}.amazonaws.com"]})


def test_kms_statement_keeps_the_rendered_shape_plans_depend_on():
    """Key order, a single action as a string, one service as a string: the plans' bytes."""
    statement = kms_via_service("DecryptThroughS3", "kms:Decrypt", KEY, "s3", REGION)
    assert json.dumps(statement) == json.dumps({
        "Sid": "DecryptThroughS3", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}})


def test_kms_statement_for_several_services_allows_each_and_no_other():
    statement = kms_via_service("FeaturesKey", ["kms:Decrypt"], KEY, ["s3", "dynamodb"], REGION)
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == [f"s3.{REGION}.amazonaws.com",
                                                                       f"dynamodb.{REGION}.amazonaws.com"]
    assert allows(statement, "kms:Decrypt", KEY, {"kms:ViaService": [f"dynamodb.{REGION}.amazonaws.com"]})
    assert allows(statement, "kms:Decrypt", KEY, VIA_S3)
    assert not allows(statement, "kms:Decrypt", KEY, {"kms:ViaService": [f"sqs.{REGION}.amazonaws.com"]})


def test_kms_statement_narrowed_to_s3_objects_refuses_other_buckets():
    keys = [KEY, OTHER_KEY]
    statement = kms_via_service("DecryptSourceObjects", "kms:Decrypt", keys, "s3", REGION,
                                s3_arns=[BUCKET, f"{BUCKET}/*"])
    own = {**VIA_S3, "kms:EncryptionContext:aws:s3:arn": [f"{BUCKET}/model.pkl"]}
    other = {**VIA_S3, "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::other-team/model.pkl"]}
    assert allows(statement, "kms:Decrypt", OTHER_KEY, own)
    assert not allows(statement, "kms:Decrypt", OTHER_KEY, other)
    assert not allows(statement, "kms:Decrypt", KEY, VIA_S3)  # no encryption context: not an S3 object of ours


def test_service_endpoint_names_the_partition_suffix_it_is_given():
    assert service_endpoint("s3", REGION) == "s3.eu-west-1.amazonaws.com"
    assert service_endpoint("s3", "cn-north-1", "amazonaws.com.cn") == "s3.cn-north-1.amazonaws.com.cn"


def test_kms_statement_from_outputs_renders_the_same_values_as_from_strings():
    """The outputs path (region and key from other resources, suffix from the partition invoke) resolves
    to the same document as plain values: components pass either."""
    def program():
        region, key, suffix = (pulumi.Output.from_input(v) for v in (REGION, KEY, "amazonaws.com"))
        pulumi.export("document", json_document(
            kms_via_service("UseKey", ["kms:Decrypt"], key, "s3", region, dns_suffix=suffix)))
        pulumi.export("objects", json_document(
            s3_objects("Read", "s3:GetObject", pulumi.Output.from_input(BUCKET), "models")))

    outputs = preview_program(program, project="mlops-platform", stack="test",
                              config={"mlops:cloud": "aws", "mlops:region": REGION}).outputs
    assert outputs["document"] == json.dumps(kms_via_service("UseKey", ["kms:Decrypt"], KEY, "s3", REGION))
    assert outputs["objects"] == json.dumps(s3_objects("Read", "s3:GetObject", BUCKET, "models"))


# --- S3 -------------------------------------------------------------------------------------------

def test_s3_objects_grants_the_listed_actions_under_the_prefixes_only():
    statement = s3_objects("ReadFeatureData", "s3:GetObject", BUCKET, ["offline", "registry"])
    assert allows(statement, "s3:GetObject", f"{BUCKET}/offline/churn/part-0.parquet")
    assert allows(statement, "s3:GetObject", f"{BUCKET}/registry/registry.db")
    assert not allows(statement, "s3:GetObject", f"{BUCKET}/mlflow/1/model.pkl")  # another prefix
    assert not allows(statement, "s3:GetObject", f"{BUCKET}/offline-copy/x")  # a prefix that only starts alike
    assert not allows(statement, "s3:PutObject", f"{BUCKET}/offline/x")  # not listed
    assert not allows(statement, "s3:GetObject", "arn:aws:s3:::other-team/offline/x")
    assert s3_objects("Rw", ["s3:GetObject"], BUCKET, "argo")["Resource"] == f"{BUCKET}/argo/*"


def test_s3_list_allows_listing_only_under_the_patterns():
    statement = s3_list("ListArtifactPrefix", BUCKET, ["mlflow", "mlflow/*"])
    assert allows(statement, "s3:ListBucket", BUCKET, {"s3:prefix": ["mlflow/1/"]})
    assert allows(statement, "s3:ListBucket", BUCKET, {"s3:prefix": ["mlflow"]})
    assert not allows(statement, "s3:ListBucket", BUCKET, {"s3:prefix": ["other-team/"]})
    assert not allows(statement, "s3:ListBucket", BUCKET, {})  # the whole bucket
    assert not allows(statement, "s3:ListBucket", "arn:aws:s3:::other-team", {"s3:prefix": ["mlflow/"]})


def test_s3_find_bucket_allows_head_bucket_and_no_listing():
    statement = s3_find_bucket("FindBucket", BUCKET)
    assert allows(statement, "s3:ListBucket", BUCKET, {})  # HeadBucket: ListBucket without s3:prefix
    assert not allows(statement, "s3:ListBucket", BUCKET, {"s3:prefix": [""]})
    assert not allows(statement, "s3:ListBucket", BUCKET, {"s3:prefix": ["registry/"]})
    assert not allows(statement, "s3:GetObject", f"{BUCKET}/registry/registry.db")


@pytest.mark.parametrize("statement", [
    kms_via_service("K", "kms:Decrypt", KEY, "s3", REGION), s3_objects("O", "s3:GetObject", BUCKET, "p"),
    s3_list("L", BUCKET, ["p/*"]), s3_find_bucket("F", BUCKET)])
def test_every_statement_is_an_allow_with_its_sid_first(statement):
    assert list(statement)[:3] == ["Sid", "Effect", "Action"] and statement["Effect"] == "Allow"


def test_a_prefix_owner_reads_writes_and_deletes_there_and_only_there():
    """MLflow's artifact repository and Ray Train's checkpoints own their prefix (S3_PREFIX_OWNER_ACTIONS)."""
    statement = s3_objects("ReadWriteArtifacts", S3_PREFIX_OWNER_ACTIONS, BUCKET, "mlflow")
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"):
        assert allows(statement, action, f"{BUCKET}/mlflow/1/abc/artifacts/model.pkl")
        assert not allows(statement, action, f"{BUCKET}/argo/pipelines/x.log")
    assert not allows(statement, "s3:PutObjectAcl", f"{BUCKET}/mlflow/1/abc/artifacts/model.pkl")
    assert not allows(statement, "s3:DeleteBucket", BUCKET)
