"""Policy packs v2 (issue 13), AWS logging: S3 access logging (or CloudTrail data events) and DR log retention."""
import pytest

from mlops_aws_policies.cloudwatch import log_group_dr_retention as dr_retention
from mlops_aws_policies.s3 import bucket_access_logging as access_logging
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

BUCKET = "aws:s3/bucket:Bucket"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
TRAIL = "aws:cloudtrail/trail:Trail"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def flagged(outcome) -> set:
    return {urn.rsplit("::", 1)[-1] for _, urn in outcome.violations}


def test_bucket_with_server_access_logging_passes_and_its_log_bucket_is_exempt():
    outcome = check_stack(access_logging.RULE, [
        Res(BUCKET, "models", {"bucket": "models"}), Res(BUCKET, "models-logs", {"bucket": "models-logs"}),
        Res(LOGGING, "models-access-logging", {"bucket": UNKNOWN, "targetBucket": UNKNOWN, "targetPrefix": "access-logs/"},
            prop_deps={"bucket": ["models"], "targetBucket": ["models-logs"]}),
    ])
    assert outcome.passed, outcome


def test_bucket_without_logging_fails():
    outcome = check_stack(access_logging.RULE, [
        Res(BUCKET, "models", {"bucket": "models"}), Res(BUCKET, "features", {"bucket": "features"}),
        Res(BUCKET, "logs", {"bucket": "logs"}),
        Res(LOGGING, "models-access-logging", {"bucket": "models", "targetBucket": "logs"}),
    ])
    assert flagged(outcome) == {"features"} and "not recorded" in outcome.messages[0]


@pytest.mark.parametrize("trail", [
    {"eventSelectors": [{"readWriteType": "All", "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]},
    {"eventSelectors": [{"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::features/"]}]}]},
    {"advancedEventSelectors": [{"name": "s3", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]},
        {"field": "resources.ARN", "startsWith": ["arn:aws:s3:::features/"]}]}]},
])
def test_cloudtrail_s3_data_events_count_as_logging(trail):
    assert check_stack(access_logging.RULE, [Res(BUCKET, "features", {"bucket": "features"}), Res(TRAIL, "trail", trail)]).passed


def test_cloudtrail_for_another_bucket_does_not_count():
    trail = {"eventSelectors": [{"dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::other/"]}]}]}
    outcome = check_stack(access_logging.RULE, [Res(BUCKET, "features", {"bucket": "features"}), Res(TRAIL, "trail", trail)])
    assert flagged(outcome) == {"features"}


def _groups(dr_flow_days, dr_db_days=30):
    primary, dr = {"region": "us-east-1"}, {"region": "us-west-2"}
    return [
        Res(BUCKET, "artifacts", primary), Res(BUCKET, "features", primary),
        Res(LOG_GROUP, "flow", {**primary, "name": "/mlops/mlops-prod/vpc-flow-logs", "retentionInDays": 365}),
        Res(LOG_GROUP, "db", {**primary, "name": "/aws/rds/instance/mlops-prod-tracking/postgresql", "retentionInDays": 30}),
        Res(LOG_GROUP, "dr-flow", {**dr, "name": "/mlops/mlops-prod-dr/vpc-flow-logs", "retentionInDays": dr_flow_days}),
        Res(LOG_GROUP, "dr-db", {**dr, "name": "/aws/rds/instance/mlops-prod-tracking-dr/postgresql", "retentionInDays": dr_db_days}),
    ]


def test_dr_log_groups_with_primary_retention_pass():
    assert check_stack(dr_retention.RULE, _groups(365)).passed
    assert check_stack(dr_retention.RULE, _groups(400, 30)).passed


def test_dr_log_group_shorter_than_primary_fails():
    outcome = check_stack(dr_retention.RULE, _groups(30))
    assert flagged(outcome) == {"dr-flow"} and "keeps logs 30 days" in outcome.messages[0] and "365 days" in outcome.messages[0]


def test_primary_that_never_expires_needs_dr_that_never_expires():
    stack = _groups(3650)
    stack[2].props.pop("retentionInDays")
    assert flagged(check_stack(dr_retention.RULE, stack)) == {"dr-flow"}
