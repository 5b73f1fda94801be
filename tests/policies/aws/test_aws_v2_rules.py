"""Policy packs v2 (issue 13), AWS: conditions judged by operator and value, OIDC subjects,
public bucket policies, broad managed policies. One pass and one fail per case, through the public API."""
import json

import pytest

from mlops_aws_policies.iam import identity_admin_managed_policies as admin_policies
from mlops_aws_policies.iam import role_trust_oidc_subject as oidc_subject
from mlops_aws_policies.iam import role_trust_wildcard_principal as trust_principal
from mlops_aws_policies.kms import key_public_principal as kms_public
from mlops_aws_policies.s3 import bucket_policy_public_principal as s3_public
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

ACCOUNT = "123456789012"
GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
EKS = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"


def _doc(statement) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _open(condition) -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": condition}


SCOPED = [
    {"StringEquals": {"kms:CallerAccount": ACCOUNT}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci-*"}},
    {"StringEquals": {"aws:SourceAccount": UNKNOWN}},
]
OPENED = [
    {"StringNotEquals": {"kms:CallerAccount": ACCOUNT}},            # everyone but our account
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci-*"}},   # a ci-* role in any account
    {"StringLike": {"aws:PrincipalOrgID": "o-*"}},                   # any organization
    {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}},     # anonymous callers lack the key
    {"Null": {"aws:PrincipalOrgID": "false"}},                       # any org member of any org
]


@pytest.mark.parametrize("condition", SCOPED)
def test_scoping_condition_with_matching_operator_and_concrete_value_passes(condition):
    assert check_resource(kms_public.RULE, "aws:kms/key:Key", {"policy": _doc(_open(condition))}).passed
    trust = {**_open(condition), "Action": "sts:AssumeRole"}
    assert check_resource(trust_principal.RULE, "aws:iam/role:Role", {"assumeRolePolicy": _doc(trust)}).passed


@pytest.mark.parametrize("condition", OPENED)
def test_negated_operator_or_wildcard_value_leaves_the_statement_open(condition):
    outcome = check_resource(kms_public.RULE, "aws:kms/key:Key", {"policy": _doc(_open(condition))})
    assert len(outcome.messages) == 1, outcome
    trust = {**_open(condition), "Action": "sts:AssumeRole"}
    assert len(check_resource(trust_principal.RULE, "aws:iam/role:Role", {"assumeRolePolicy": _doc(trust)}).messages) == 1


def _web_identity(provider, condition) -> dict:
    return {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            **({"Condition": condition} if condition else {})}


@pytest.mark.parametrize("provider,condition", [
    (GITHUB, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
              "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/mlops-platform:ref:refs/heads/main"}}),
    (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:acme/*"]}}),
    (EKS, {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:mlops:mlflow"}}),
    (UNKNOWN, {"StringEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:mlops:feast"}}),
])
def test_oidc_trust_naming_its_subjects_passes(provider, condition):
    role = {"assumeRolePolicy": _doc(_web_identity(provider, condition))}
    assert check_resource(oidc_subject.RULE, "aws:iam/role:Role", role).passed


@pytest.mark.parametrize("provider,condition,expected", [
    (GITHUB, {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}, "no <issuer>:sub"),
    (GITHUB, None, "no <issuer>:sub"),
    (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": "*"}}, "match any"),
    (GITHUB, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:*"}}, "match any"),
    (EKS, {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:*"}}, "match any"),
    (EKS, {"StringNotEquals": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub": "system:serviceaccount:kube-system:x"}},
     "StringNotEquals"),
])
def test_oidc_trust_without_a_subject_fails(provider, condition, expected):
    outcome = check_resource(oidc_subject.RULE, "aws:iam/role:Role",
                             {"assumeRolePolicy": {"Version": "2012-10-17", "Statement": _web_identity(provider, condition)}})
    assert len(outcome.messages) == 1 and expected in outcome.messages[0], outcome


def test_service_trust_is_not_an_oidc_trust():
    role = {"assumeRolePolicy": _doc({"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"})}
    assert check_resource(oidc_subject.RULE, "aws:iam/role:Role", role).passed


BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::data/*"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*",
     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
])
def test_bucket_policy_naming_its_callers_passes(statement):
    assert check_resource(s3_public.RULE, BUCKET_POLICY, {"bucket": "data", "policy": _doc(statement)}).passed
    assert check_resource(s3_public.RULE, "aws:s3/bucket:Bucket", {"policy": {"Statement": [statement]}}).passed


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
    {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::data/*"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*",
     "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}},
])
def test_bucket_policy_open_to_anyone_fails(statement):
    outcome = check_resource(s3_public.RULE, BUCKET_POLICY, {"bucket": "data", "policy": {"Statement": statement}})
    assert len(outcome.messages) == 1 and 'principal "*"' in outcome.messages[0], outcome


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/AWSCodeBuildAdminAccess",
    "arn:aws:iam::aws:policy/AWSCodeCommitPowerUser",
])
def test_broad_managed_policies_fail(arn):
    outcome = check_resource(admin_policies.RULE, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                             {"role": "r", "policyArn": arn})
    assert len(outcome.messages) == 1 and arn in outcome.messages[0]


@pytest.mark.parametrize("arn", ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                                 "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
                                 "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])
def test_scoped_managed_policies_pass(arn):
    assert check_resource(admin_policies.RULE, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                          {"role": "r", "policyArn": arn}).passed
