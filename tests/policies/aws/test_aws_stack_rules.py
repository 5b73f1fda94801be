"""AWS stack rules: settings made by a separate resource are correlated with the resource they protect."""
import json

import pytest

from mlops_aws_policies.ec2 import ebs_encryption
from mlops_aws_policies.ecr import repository_scan_on_push as ecr_scan
from mlops_aws_policies.kms import key_rotation
from mlops_aws_policies.s3 import bucket_kms_encryption as s3_kms
from mlops_aws_policies.s3 import bucket_public_access_block as s3_pab
from mlops_aws_policies.s3 import bucket_tls_only_policy as s3_tls
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack, urn_of

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b3f2a55-1c1e-4c8b-9d0a-5f0e8a9d7c11"
BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
KMS_RULES = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
              "bucketKeyEnabled": True}]
ALL_FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
TLS_STATEMENT = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def flagged(outcome) -> set:
    return {urn.rsplit("::", 1)[-1] for _, urn in outcome.violations}


# --- S3 default encryption ----------------------------------------------------------------------------

@pytest.mark.parametrize("sse_type", [SSE, SSE_V2])
def test_bucket_encrypted_by_separate_resource_via_dependency(sse_type):
    # During a real preview the bucket id is unknown: the dependency is what ties the two together.
    outcome = check_stack(s3_kms.RULE, [Res(BUCKET, "data", {}),
                                        Res(sse_type, "data-sse", {"bucket": UNKNOWN, "rules": KMS_RULES}, deps=["data"])])
    assert outcome.passed


def test_configuration_resources_find_their_bucket_by_name_arn_or_property_dependency():
    by_name = [Res(BUCKET, "data", {"bucket": "acme-data"}), Res(BUCKET, "logs", {"bucket": "acme-logs"}),
               Res(SSE, "data-sse", {"bucket": "acme-data", "rules": KMS_RULES}),
               Res(SSE, "logs-sse", {"bucket": "acme-logs", "rules": KMS_RULES}, deps=["data", "logs"],
                   prop_deps={"bucket": ["logs"]})]
    by_arn = [Res(BUCKET, "data", {"bucket": "acme-data"}), Res(BUCKET, "logs", {"bucket": "acme-logs"}),
              Res(PAB, "logs-pab", {"bucket": "arn:aws:s3:::acme-logs", **ALL_FLAGS}),
              Res(PAB, "data-pab", {"bucket": "acme-data", **ALL_FLAGS})]
    assert check_stack(s3_pab.RULE, by_arn).passed
    assert [u.rsplit("::", 1)[-1] for _, u in check_stack(s3_pab.RULE, by_arn[:3]).violations] == ["data"]
    assert check_stack(s3_kms.RULE, by_name).passed


def test_bucket_encrypted_inline_passes():
    inline = {"serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault":
                                                            {"sseAlgorithm": "aws:kms:dsse", "kmsMasterKeyId": UNKNOWN}}}}
    assert check_stack(s3_kms.RULE, [Res(BUCKET, "data", inline)]).passed


def test_bucket_without_encryption_and_sse_s3_config_fail_on_the_right_resource():
    outcome = check_stack(s3_kms.RULE, [
        Res(BUCKET, "plain", {}),
        Res(BUCKET, "aes", {}),
        Res(SSE, "aes-sse", {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
            deps=["aes"]),
        Res(BUCKET, "awsmanaged", {}),
        Res(SSE, "awsmanaged-sse", {"bucket": UNKNOWN, "rules": [{"applyServerSideEncryptionByDefault":
                                                                 {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "alias/aws/s3"}}]},
            deps=["awsmanaged"]),
    ])
    assert flagged(outcome) == {"plain", "aes-sse", "awsmanaged-sse"}
    assert any("AES256" in m for m in outcome.messages)


def test_unknown_encryption_rules_are_advisory():
    outcome = check_stack(s3_kms.RULE, [Res(BUCKET, "data", {}), Res(SSE, "data-sse", {"bucket": UNKNOWN, "rules": UNKNOWN}, deps=["data"])])
    assert outcome.violations == [] and "data-sse: rules" in outcome.cannot_check


# --- S3 public access block ---------------------------------------------------------------------------

def test_public_access_block_with_all_flags_passes():
    assert check_stack(s3_pab.RULE, [Res(BUCKET, "data", {}), Res(PAB, "data-pab", {"bucket": UNKNOWN, **ALL_FLAGS}, deps=["data"])]).passed


def test_account_level_block_covers_every_bucket():
    account = Res("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", dict(ALL_FLAGS))
    assert check_stack(s3_pab.RULE, [Res(BUCKET, "data", {}), account]).passed


def test_missing_block_or_flag_off_fails():
    outcome = check_stack(s3_pab.RULE, [
        Res(BUCKET, "open", {}),
        Res(BUCKET, "partial", {}),
        Res(PAB, "partial-pab", {"bucket": UNKNOWN, **ALL_FLAGS, "restrictPublicBuckets": False}, deps=["partial"]),
    ])
    assert flagged(outcome) == {"open", "partial-pab"}
    assert any("restrictPublicBuckets" in m for m in outcome.messages)


def test_unknown_flag_is_advisory():
    outcome = check_stack(s3_pab.RULE, [Res(BUCKET, "data", {}),
                                        Res(PAB, "pab", {"bucket": UNKNOWN, **ALL_FLAGS, "blockPublicAcls": UNKNOWN}, deps=["data"])])
    assert outcome.violations == [] and "blockPublicAcls" in outcome.cannot_check


# --- S3 TLS-only policy ---------------------------------------------------------------------------------

@pytest.mark.parametrize("document", [
    json.dumps({"Version": "2012-10-17", "Statement": [TLS_STATEMENT]}),
    {"Version": "2012-10-17", "Statement": TLS_STATEMENT},
    json.dumps({"Statement": [{**TLS_STATEMENT, "Action": ["s3:*"], "Principal": {"AWS": "*"},
                               "Condition": {"BoolIfExists": {"aws:SecureTransport": False}}}]}),
    json.dumps({"Statement": [{**TLS_STATEMENT, "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}]}),
])
def test_tls_only_policy_passes_inline_and_separate(document):
    assert check_stack(s3_tls.RULE, [Res(BUCKET, "data", {"bucket": "data"}),
                                     Res(POLICY, "data-policy", {"bucket": UNKNOWN, "policy": document}, deps=["data"])]).passed
    assert check_stack(s3_tls.RULE, [Res(BUCKET, "data", {}), Res(POLICY, "data-policy", {"bucket": "data", "policy": document},
                                                                  deps=["data"])]).passed
    assert check_stack(s3_tls.RULE, [Res(BUCKET, "data", {"bucket": "data", "policy": document})]).passed


def test_bucket_without_tls_deny_fails():
    allow_only = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
                                            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]})
    deny_get_only = json.dumps({"Statement": [{**TLS_STATEMENT, "Action": "s3:GetObject"}]})
    outcome = check_stack(s3_tls.RULE, [
        Res(BUCKET, "nopolicy", {}),
        Res(BUCKET, "allowonly", {}), Res(POLICY, "allowonly-policy", {"bucket": UNKNOWN, "policy": allow_only}, deps=["allowonly"]),
        Res(BUCKET, "getonly", {"policy": deny_get_only}),
    ])
    assert flagged(outcome) == {"nopolicy", "allowonly", "getonly"}


@pytest.mark.parametrize("resources", [
    ["arn:aws:s3:::other", "arn:aws:s3:::other/*"],   # another bucket's deny
    ["arn:aws:s3:::data/*"],                          # the objects only: ListBucket etc. still over HTTP
    "arn:aws:s3:::data",                              # the bucket only: every object over HTTP
])
def test_tls_deny_must_cover_this_bucket_and_its_objects(resources):
    document = json.dumps({"Statement": [{**TLS_STATEMENT, "Resource": resources}]})
    outcome = check_stack(s3_tls.RULE, [Res(BUCKET, "data", {}),
                                        Res(POLICY, "data-policy", {"bucket": "data", "policy": document}, deps=["data"])])
    assert flagged(outcome) == {"data"} and "<bucket ARN>/*" in outcome.messages[0]


def test_tls_deny_with_wildcard_resource_or_pattern_passes():
    for resources in ("*", ["arn:aws:s3:::data", "arn:aws:s3:::data/*"], ["arn:aws:s3:::data*"]):
        document = json.dumps({"Statement": [{**TLS_STATEMENT, "Resource": resources}]})
        assert check_stack(s3_tls.RULE, [Res(BUCKET, "data", {"bucket": "data", "policy": document})]).passed, resources


def test_two_bucket_policies_on_one_bucket_fail():
    document = json.dumps({"Statement": [TLS_STATEMENT]})
    outcome = check_stack(s3_tls.RULE, [
        Res(BUCKET, "data", {"bucket": "data"}),
        Res(POLICY, "data-tls", {"bucket": "data", "policy": document}, deps=["data"]),
        Res(POLICY, "data-access", {"bucket": "data", "policy": document}, deps=["data"]),
    ])
    assert flagged(outcome) == {"data"} and "2 BucketPolicy resources" in outcome.messages[0]


def test_unknown_bucket_policy_is_advisory():
    outcome = check_stack(s3_tls.RULE, [Res(BUCKET, "data", {}), Res(POLICY, "p", {"bucket": UNKNOWN, "policy": UNKNOWN}, deps=["data"])])
    assert outcome.violations == [] and "cannot check during preview" in outcome.cannot_check


# --- EBS encryption ---------------------------------------------------------------------------------------

def test_encrypted_volumes_instances_and_launch_templates_pass():
    assert check_stack(ebs_encryption.RULE, [
        Res("aws:ebs/volume:Volume", "vol", {"encrypted": True, "kmsKeyId": KEY_ARN}),
        Res("aws:ec2/instance:Instance", "vm", {"rootBlockDevice": {"encrypted": True},
                                                "ebsBlockDevices": [{"deviceName": "/dev/sdb", "encrypted": True}]}),
        Res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {"blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN}},
            {"deviceName": "/dev/sdc", "virtualName": "ephemeral0"}]}),
    ]).passed


def test_unencrypted_block_storage_fails():
    outcome = check_stack(ebs_encryption.RULE, [
        Res("aws:ebs/volume:Volume", "vol", {"size": 10}),
        Res("aws:ec2/instance:Instance", "vm", {"rootBlockDevice": {"encrypted": True},
                                                "ebsBlockDevices": [{"deviceName": "/dev/sdb"}]}),
        Res("aws:ec2/launchTemplate:LaunchTemplate", "lt-false", {"blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]}),
        Res("aws:ec2/launchTemplate:LaunchTemplate", "lt-none", {"imageId": "ami-1"}),
    ])
    assert flagged(outcome) == {"vol", "vm", "lt-false", "lt-none"}
    assert any("ebsBlockDevices[0].encrypted" in m for m in outcome.messages)


def test_encryption_by_default_in_the_same_region_covers_volumes():
    volume = Res("aws:ebs/volume:Volume", "vol", {"size": 10, "region": "eu-west-1"})
    other_region = Res("aws:ebs/volume:Volume", "dr-vol", {"size": 10, "region": "eu-central-1"})
    default = Res("aws:ebs/encryptionByDefault:EncryptionByDefault", "default", {"enabled": True, "region": "eu-west-1"})
    assert flagged(check_stack(ebs_encryption.RULE, [volume, other_region, default])) == {"dr-vol"}


# --- ECR scan on push -------------------------------------------------------------------------------------

def test_scan_on_push_on_the_repository_or_by_a_registry_rule():
    repo = Res("aws:ecr/repository:Repository", "models", {"name": "mlops/models"})
    registry = Res("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning",
                   {"scanType": "ENHANCED", "rules": [{"scanFrequency": "CONTINUOUS_SCAN",
                                                       "repositoryFilters": [{"filter": "mlops/*", "filterType": "WILDCARD"}]}]})
    assert check_stack(ecr_scan.RULE, [repo, registry]).passed
    scanned = Res("aws:ecr/repository:Repository", "images", {"imageScanningConfiguration": {"scanOnPush": True}})
    assert check_stack(ecr_scan.RULE, [scanned]).passed


def test_repository_without_scanning_fails():
    other_filter = Res("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning",
                       {"rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "team-b/*"}]}]})
    outcome = check_stack(ecr_scan.RULE, [
        Res("aws:ecr/repository:Repository", "models", {"name": "mlops/models"}),
        Res("aws:ecr/repository:Repository", "off", {"imageScanningConfiguration": {"scanOnPush": False}}),
        other_filter,
    ])
    assert flagged(outcome) == {"models", "off"}


# --- KMS rotation -------------------------------------------------------------------------------------------

def test_rotation_off_is_reported_with_the_resources_using_the_key():
    outcome = check_stack(key_rotation.RULE, [
        Res("aws:kms/key:Key", "data-key", {"enableKeyRotation": False}),
        Res("aws:kms/key:Key", "good-key", {"enableKeyRotation": True}),
        Res("aws:kms/key:Key", "signing", {"customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}),
        Res("aws:dynamodb/table:Table", "online-store", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": UNKNOWN}},
            deps=["data-key"]),
        Res("aws:kms/alias:Alias", "data-key-alias", {"targetKeyId": UNKNOWN}, deps=["data-key"]),
    ])
    assert flagged(outcome) == {"data-key"}
    assert "used by online-store" in outcome.messages[0] and "alias" not in outcome.messages[0]


def test_rotation_unset_fails_and_unknown_is_advisory():
    assert flagged(check_stack(key_rotation.RULE, [Res("aws:kms/key:Key", "k", {})])) == {"k"}
    outcome = check_stack(key_rotation.RULE, [Res("aws:kms/key:Key", "k", {"enableKeyRotation": UNKNOWN})])
    assert outcome.violations == [] and "enableKeyRotation" in outcome.cannot_check


def test_stack_rule_exclude_for_uses_the_reported_resource():
    outcome = check_stack(key_rotation.RULE, [Res("aws:kms/key:Key", "legacy-key", {}), Res("aws:kms/key:Key", "k", {})],
                          config={"excludeFor": [urn_of("aws:kms/key:Key", "legacy-*")]})
    assert flagged(outcome) == {"k"}
