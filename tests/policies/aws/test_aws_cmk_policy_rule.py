"""CMK stores must be created after the key policy or grant that lets them use the key (stack rule)."""
from pathlib import Path

from mlops_aws_policies.kms import cmk_store_depends_on_key_policy as cmk_policy
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import Res, check_stack, resource

RULE = cmk_policy.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "aws"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b3f2a55-1c1e-4c8b-9d0a-5f0e8a9d7c11"
POLICY = '{"Version": "2012-10-17", "Statement": []}'


def key(inline=True):
    return Res("aws:kms/key:Key", "data", {"enableKeyRotation": True, **({"policy": POLICY} if inline else {})})


def key_policy():
    return Res("aws:kms/keyPolicy:KeyPolicy", "data-policy", {"keyId": "k", "policy": POLICY}, deps=["data"],
               prop_deps={"keyId": ["data"]})


def db(deps=()):
    return Res("aws:rds/instance:Instance", "db", {"kmsKeyId": KEY_ARN, "storageEncrypted": True},
               deps=["data", *deps], prop_deps={"kmsKeyId": ["data"]})


def test_store_using_a_key_with_an_inline_policy_passes():
    assert check_stack(RULE, [key(), db()]).passed


def test_store_after_the_separate_key_policy_passes():
    assert check_stack(RULE, [key(inline=False), key_policy(), db(deps=["data-policy"])]).passed


def test_store_racing_the_separate_key_policy_fails():
    racing = db()
    outcome = check_stack(RULE, [key(inline=False), key_policy(), racing])
    assert outcome.violations == [(outcome.messages[0], racing.urn)]
    assert "does not depend on data-policy" in outcome.messages[0]


def test_key_without_any_policy_fails():
    outcome = check_stack(RULE, [key(inline=False), db()])
    assert len(outcome.violations) == 1 and "default key policy" in outcome.messages[0]


def test_keys_from_outside_the_program_are_out_of_scope():
    outside = Res("aws:rds/instance:Instance", "db", {"kmsKeyId": KEY_ARN, "storageEncrypted": True})
    assert check_stack(RULE, [outside]).passed


def test_through_the_analyzer_protocol_only_the_racing_store_is_reported():
    k = resource("aws:kms/key:Key", "data", {"enableKeyRotation": True})
    policy = resource("aws:kms/keyPolicy:KeyPolicy", "data-policy", {"keyId": "k", "policy": POLICY}, (k["urn"],))
    policy["propertyDependencies"] = {"keyId": [k["urn"]]}
    queue = {"kmsMasterKeyId": KEY_ARN}
    ordered = resource("aws:sqs/queue:Queue", "ordered", queue, (k["urn"], policy["urn"]))
    racing = resource("aws:sqs/queue:Queue", "racing", queue, (k["urn"],))
    for q in (ordered, racing):
        q["propertyDependencies"] = {"kmsMasterKeyId": [k["urn"]]}
    _, violations = run_policy_packs([k, policy, ordered, racing], [PACK])
    assert [(v.urn, v.enforcement) for v in violations if v.policy == RULE.name] == [(racing["urn"], "mandatory")]
