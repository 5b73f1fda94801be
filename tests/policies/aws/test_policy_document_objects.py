"""pulumi-aws v7 takes ``policy=`` as a JSON string or an object: a program written with dicts previews
(the mocks answer with the JSON string the provider returns) and the AWS pack judges the object form
exactly like the string form, through the Analyzer protocol."""
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from mlops_tools.policy.runner import run_policy_packs
from mlops_tools.engine.preview import preview_program

ROOT = Path(__file__).resolve().parents[3]


def _doc(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


READ = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::artifacts/*"}
EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
EC2_TRUST = _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
OPEN_TRUST = _doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
SEEN: dict = {}


def _tls_deny(arn):
    return _doc({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})


def _program():
    good_policy = aws.iam.Policy("good-dict-policy", policy=_doc(READ))
    aws.iam.Policy("bad-dict-policy", policy=_doc(EVERYTHING))
    role = aws.iam.Role("good-dict-role", assume_role_policy=EC2_TRUST,
                        inline_policies=[{"name": "read", "policy": _doc(READ)}])
    aws.iam.Role("bad-dict-trust", assume_role_policy=OPEN_TRUST)
    aws.iam.Role("bad-dict-inline", assume_role_policy=EC2_TRUST,
                 inline_policies=[{"name": "admin", "policy": _doc(EVERYTHING)}])
    aws.iam.RolePolicy("good-dict-role-policy", role=role.name, policy=_doc(READ))
    aws.iam.RolePolicy("bad-dict-role-policy", role=role.name, policy=_doc(EVERYTHING))
    bucket = aws.s3.Bucket("dict-bucket", bucket="dict-bucket")
    aws.s3.BucketPolicy("dict-bucket-policy", bucket=bucket.id, policy=_tls_deny("arn:aws:s3:::dict-bucket"))
    public = aws.s3.Bucket("public-bucket", bucket="public-bucket")
    aws.s3.BucketPolicy("public-bucket-policy", bucket=public.id, policy=_doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::public-bucket", "arn:aws:s3:::public-bucket/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::public-bucket/*"}))
    # What the program reads back is the provider's JSON string, as in a real deployment.
    pulumi.Output.all(good_policy.policy, role.assume_role_policy).apply(lambda values: SEEN.update(outputs=values))


@pytest.fixture(scope="module")
def outcome():
    result = preview_program(_program, project="dict-policies", stack="test", config={"aws:region": "eu-west-1"})
    _, violations = run_policy_packs(result.resources, [ROOT / "policies" / "aws"])
    return result, violations


def test_program_with_object_policies_previews_and_reads_back_json_strings(outcome):
    policy, trust = SEEN["outputs"]
    assert isinstance(policy, str) and '"s3:GetObject"' in policy
    assert isinstance(trust, str) and '"ec2.amazonaws.com"' in trust


def test_object_policies_are_judged_like_strings(outcome):
    _, violations = outcome
    found = {(v.policy, v.urn.rsplit("::", 1)[-1]) for v in violations
             # the bare buckets lack SecureBucket's companion settings (encryption, logging, lifecycle, ownership)
             if not v.policy.startswith(("aws-s3-bucket-enable-", "aws-s3-bucket-require-access",
                                         "aws-s3-bucket-require-lifecycle", "aws-s3-bucket-disable-acls"))}
    assert found == {
        ("aws-iam-policy-disallow-wildcard-actions", "bad-dict-policy"),
        ("aws-iam-policy-disallow-wildcard-resources", "bad-dict-policy"),
        ("aws-iam-role-disallow-wildcard-trust-principal", "bad-dict-trust"),
        ("aws-iam-policy-disallow-wildcard-actions", "bad-dict-inline"),
        ("aws-iam-policy-disallow-wildcard-resources", "bad-dict-inline"),
        ("aws-iam-policy-disallow-wildcard-actions", "bad-dict-role-policy"),
        ("aws-iam-policy-disallow-wildcard-resources", "bad-dict-role-policy"),
        ("aws-s3-bucket-disallow-public-policy-principal", "public-bucket-policy"),
    }
