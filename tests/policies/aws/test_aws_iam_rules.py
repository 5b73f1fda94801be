"""IAM and key-policy rules: every spelling of a policy document (JSON string or object, Statement
dict or list, Action/Resource/Principal string or list, NotAction, conditions) is judged the same."""
import json

import pytest

from mlops_aws_policies.iam import identity_admin_managed_policies as admin_policies
from mlops_aws_policies.iam import policy_wildcard_actions as wildcard_actions
from mlops_aws_policies.iam import policy_wildcard_resources as wildcard_resources
from mlops_aws_policies.iam import role_trust_wildcard_principal as trust_principal
from mlops_aws_policies.iam import user_inline_policies as user_inline
from mlops_aws_policies.kms import key_public_principal as kms_public
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

BUCKET = "arn:aws:s3:::mlops-artifacts"


def spellings(statement: dict) -> list:
    """The same one-statement document as a JSON string and as an object, Statement as dict and list."""
    return [
        json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        json.dumps({"Version": "2012-10-17", "Statement": statement}),
        {"Version": "2012-10-17", "Statement": [statement]},
        {"Version": "2012-10-17", "Statement": statement},
    ]


def as_lists(statement: dict) -> dict:
    return {k: ([v] if isinstance(v, str) and k in ("Action", "NotAction", "Resource") else v) for k, v in statement.items()}


def policy_outcome(rule, document, type_token="aws:iam/policy:Policy", config=None):
    return check_resource(rule.RULE, type_token, {"policy": document}, name="p", config=config)


# --- wildcard actions -------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET},
    {"Effect": "Allow", "Action": ["s3:GetObject", "iam:*"], "Resource": BUCKET},
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
])
def test_wildcard_actions_fail_in_every_spelling(statement):
    for document in spellings(statement) + spellings(as_lists(statement)):
        outcome = policy_outcome(wildcard_actions, document)
        assert len(outcome.messages) == 1, (document, outcome)


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{BUCKET}/*"},
    {"Effect": "Allow", "Action": "s3:Get*", "Resource": BUCKET},
    {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
])
def test_named_actions_and_denies_pass(statement):
    for document in spellings(statement):
        assert policy_outcome(wildcard_actions, document).passed


def test_wildcard_actions_checks_role_inline_policies_and_other_policy_resources():
    bad = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    role = check_resource(wildcard_actions.RULE, "aws:iam/role:Role",
                          {"assumeRolePolicy": "{}", "inlinePolicies": [{"name": "admin", "policy": bad}]})
    assert "inlinePolicies[0] (admin)" in role.messages[0]
    for type_token in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"):
        assert not check_resource(wildcard_actions.RULE, type_token, {"policy": bad}).passed


def test_unknown_or_malformed_documents_are_not_passed():
    assert "cannot check during preview" in policy_outcome(wildcard_actions, UNKNOWN).cannot_check
    assert "not valid JSON" in policy_outcome(wildcard_actions, "{not json").messages[0]


# --- wildcard resources -------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
    {"Effect": "Allow", "Action": ["ec2:Describe*", "ec2:TerminateInstances"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:AttachRolePolicy", "NotResource": "arn:aws:iam::123456789012:role/admin"},
    {"Effect": "Allow", "Action": "s3:*Object", "Resource": "*"},
])
def test_write_actions_on_every_resource_fail(statement):
    for document in spellings(statement) + spellings(as_lists(statement)):
        outcome = policy_outcome(wildcard_resources, document)
        assert len(outcome.messages) == 1, (document, outcome)


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": ["ec2:Describe*", "s3:ListAllMyBuckets", "sts:GetCallerIdentity"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "kms:CreateKey", "cloudwatch:PutMetricData"], "Resource": "*"},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": [f"{BUCKET}/*"]},
    {"Effect": "Allow", "Action": ["ec2:CreateVolume", "ec2:DeleteVolume"], "Resource": "*",
     "Condition": {"StringLike": {"aws:ResourceTag/ebs.csi.aws.com/cluster": "true"}}},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
     "Condition": {"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}}},
])
def test_read_only_no_resource_level_and_condition_scoped_statements_pass(statement):
    for document in spellings(statement):
        assert policy_outcome(wildcard_resources, document).passed, document


def test_extra_no_resource_actions_come_from_config():
    document = spellings({"Effect": "Allow", "Action": "servicequotas:RequestServiceQuotaIncrease", "Resource": "*"})[0]
    assert not policy_outcome(wildcard_resources, document).passed
    config = {"allowedWildcardResourceActions": ["servicequotas:RequestServiceQuotaIncrease"]}
    assert policy_outcome(wildcard_resources, document, config=config).passed


# --- admin managed policies ---------------------------------------------------------------------------

@pytest.mark.parametrize("type_token, props", [
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    ("aws:iam/userPolicyAttachment:UserPolicyAttachment", {"user": "u", "policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}),
    ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", {"group": "g", "policyArn": "arn:aws-us-gov:iam::aws:policy/IAMFullAccess"}),
    ("aws:iam/policyAttachment:PolicyAttachment", {"roles": ["r"], "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess-Amplify"}),
    ("aws:iam/role:Role", {"assumeRolePolicy": "{}", "managedPolicyArns": ["arn:aws:iam::aws:policy/job-function/SystemAdministrator",
                                                                         "arn:aws:iam::aws:policy/AmazonEC2FullAccess"]}),
    ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
     {"roleName": "r", "policyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}),
])
def test_admin_managed_policies_fail(type_token, props):
    outcome = check_resource(admin_policies.RULE, type_token, props)
    assert len(outcome.messages) == 1 and "administrator/full-access" in outcome.messages[0]


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::123456789012:policy/AdministratorAccess", UNKNOWN,
])
def test_scoped_customer_and_unknown_policies_pass(arn):
    outcome = check_resource(admin_policies.RULE, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                             {"role": "r", "policyArn": arn})
    assert outcome.passed


# --- role trust and KMS key policies ------------------------------------------------------------------

PUBLIC_PRINCIPALS = ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "*"]}]


@pytest.mark.parametrize("principal", PUBLIC_PRINCIPALS)
def test_wildcard_trust_principal_fails(principal):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    for document in spellings(statement):
        outcome = check_resource(trust_principal.RULE, "aws:iam/role:Role", {"assumeRolePolicy": document})
        assert len(outcome.messages) == 1, document


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
    {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks"},
     "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"oidc.eks:sub": "system:serviceaccount:mlops:mlflow"}}},
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
])
def test_named_or_condition_scoped_trust_passes(statement):
    for document in spellings(statement):
        assert check_resource(trust_principal.RULE, "aws:iam/role:Role", {"assumeRolePolicy": document}).passed


def test_trust_rule_ignores_the_roles_inline_permission_policies():
    inline = json.dumps({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}})
    trust = json.dumps({"Statement": {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}})
    assert check_resource(trust_principal.RULE, "aws:iam/role:Role",
                          {"assumeRolePolicy": trust, "inlinePolicies": [{"name": "x", "policy": inline}]}).passed


@pytest.mark.parametrize("type_token", ["aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy"])
@pytest.mark.parametrize("principal", PUBLIC_PRINCIPALS)
def test_kms_key_policy_with_open_principal_fails(type_token, principal):
    statement = {"Sid": "Open", "Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}
    for document in spellings(statement):
        outcome = check_resource(kms_public.RULE, type_token, {"policy": document})
        assert len(outcome.messages) == 1 and "'Open'" in outcome.messages[0]


def test_kms_key_policy_scoped_by_caller_account_or_named_principal_passes():
    scoped = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*",
              "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012", "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}
    named = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}
    for statement in (scoped, named):
        for document in spellings(statement):
            assert check_resource(kms_public.RULE, "aws:kms/key:Key", {"policy": document}).passed
    # A condition that does not restrict the caller does not help.
    unscoped = {**scoped, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    assert not check_resource(kms_public.RULE, "aws:kms/key:Key", {"policy": spellings(unscoped)[0]}).passed


def test_user_inline_policy_fails_and_group_policy_is_not_its_business():
    assert not check_resource(user_inline.RULE, "aws:iam/userPolicy:UserPolicy", {"user": "u", "policy": "{}"}).passed
    assert check_resource(user_inline.RULE, "aws:iam/groupPolicy:GroupPolicy", {"group": "g", "policy": "{}"}).passed
