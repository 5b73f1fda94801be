"""State backend bootstrap against moto: the bucket and keys a user relies on, and idempotence."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from mlops_tools.ops.aws import bootstrap

REGION = "eu-west-1"
BUCKET = "acme-pulumi-state"


def run(capsys, *extra: str) -> tuple[int, str, str]:
    code = bootstrap.main(["--region", REGION, "--bucket-name", BUCKET, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def aws():
    with mock_aws():
        yield


def test_creates_an_encrypted_versioned_private_tls_only_bucket(aws, capsys):
    code, out, err = run(capsys)
    assert code == 0, err
    s3 = boto3.client("s3", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    state_key = kms.describe_key(KeyId=bootstrap.DEFAULT_STATE_KEY_ALIAS)["KeyMetadata"]

    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == REGION
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": state_key["Arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    assert set(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values()) == {True}

    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]

    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}

    for alias in (bootstrap.DEFAULT_STATE_KEY_ALIAS, bootstrap.DEFAULT_SECRETS_KEY_ALIAS):
        key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    secrets_key = kms.describe_key(KeyId=bootstrap.DEFAULT_SECRETS_KEY_ALIAS)["KeyMetadata"]
    assert secrets_key["KeyId"] != state_key["KeyId"], "one key per purpose"

    assert f"pulumi login 's3://{BUCKET}?region={REGION}&awssdk=v2'" in out
    assert (
        f"pulumi stack init prod --secrets-provider 'awskms://alias/mlops-pulumi-secrets?region={REGION}'" in out
    )
    assert "created bucket" in err and "T" in err.split()[0], "steps are logged with timestamps"


def test_second_run_changes_nothing_and_says_so(aws, capsys):
    assert run(capsys)[0] == 0
    s3 = boto3.client("s3", region_name=REGION)
    before = (
        s3.get_bucket_policy(Bucket=BUCKET)["Policy"],
        s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"],
        s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"],
        boto3.client("kms", region_name=REGION).list_aliases()["Aliases"],
    )
    code, out, err = run(capsys)
    assert code == 0
    assert out.startswith("nothing changed")
    assert "changed:" not in err
    after = (
        s3.get_bucket_policy(Bucket=BUCKET)["Policy"],
        s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"],
        s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"],
        boto3.client("kms", region_name=REGION).list_aliases()["Aliases"],
    )
    assert after == before
    assert len(boto3.client("kms", region_name=REGION).list_keys()["Keys"]) == 2


def test_repairs_drifted_settings_and_keeps_foreign_policy_and_rules(aws, capsys):
    assert run(capsys)[0] == 0
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_encryption(Bucket=BUCKET)
    audit = {"Sid": "AuditRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [audit]}))
    other_rule = {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [other_rule]})

    code, out, err = run(capsys)
    assert code == 0
    assert "4 change(s)" in out
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "BucketKeyEnabled"] is True
    sids = [s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]]
    assert sids == ["AuditRead", "DenyInsecureTransport"]
    rule_ids = [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    assert rule_ids == ["logs", bootstrap.LIFECYCLE_RULE_ID]


def test_default_bucket_name_includes_account_and_region(aws, capsys):
    code = bootstrap.main(["--region", "us-east-1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "s3://mlops-pulumi-state-123456789012-us-east-1?region=us-east-1" in out
    assert boto3.client("s3", region_name="us-east-1").head_bucket(Bucket="mlops-pulumi-state-123456789012-us-east-1")


def test_bucket_in_another_region_is_refused_before_anything_is_created(aws, capsys):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    code, out, err = run(capsys)
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: bucket acme-pulumi-state is in us-east-1, not eu-west-1; pass --region us-east-1"
    )
    assert boto3.client("kms", region_name=REGION).list_keys()["Keys"] == [], "nothing half-created"


def test_bucket_owned_by_another_account_is_refused(capsys):
    """moto ignores ExpectedBucketOwner, so S3's documented 403 answer is stubbed here."""
    from botocore.stub import Stubber

    s3 = boto3.client("s3", region_name=REGION)
    spec = bootstrap.BackendSpec(REGION, BUCKET, "alias/a", "alias/b", 90)
    with Stubber(s3) as stub:
        stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403,
                              expected_params={"Bucket": BUCKET, "ExpectedBucketOwner": "123456789012"})
        with pytest.raises(bootstrap.OpsError, match="exists but is not owned by account 123456789012"):
            bootstrap.bucket_exists(s3, spec, "123456789012")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--region", "mars-1"], "is not an AWS region name"),
        (["--region", "eu-west-9"], "'eu-west-9' is not an AWS region; did you mean eu-west-3, eu-west-2, eu-west-1?"),
        (["--region", REGION, "--bucket-name", "Bad_Name"], "is not a valid S3 bucket name"),
        (["--region", REGION, "--bucket-name", "x" * 64], "is not a valid S3 bucket name"),
        (["--region", REGION, "--secrets-key-alias", "mine"], "must look like alias/<name>"),
        (["--region", REGION, "--noncurrent-days", "0"], "--noncurrent-days must be"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    code = bootstrap.main(argv)
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in err


def test_missing_region_argument_is_a_usage_error(capsys):
    assert bootstrap.main([]) == 2
    assert "--region" in capsys.readouterr().err


def test_an_error_is_printed_once(capsys):
    """The step log and the error line share stderr: the message appears one time, not logged and printed."""
    bootstrap.main(["--region", "eu-west-9"])
    err = capsys.readouterr().err
    assert err.count("eu-west-9") == 1, err
