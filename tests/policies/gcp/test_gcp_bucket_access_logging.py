"""CKV_GCP_62: every bucket writes usage logs to a log bucket the Cloud Storage log writer may write to."""
from mlops_gcp_policies.storage import bucket_access_logging as access_logging
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RULE = access_logging.RULE
BUCKET = "gcp:storage/bucket:Bucket"
MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
WRITER = "group:cloud-storage-analytics@google.com"


def bucket(name, log_bucket=None, deps=()):
    props = {"name": name, "uniformBucketLevelAccess": True}
    if log_bucket is not None:
        props["logging"] = {"logBucket": log_bucket, "logObjectPrefix": name}
    return Res(BUCKET, name, props, deps=list(deps))


def writer(bucket_name, role="roles/storage.objectCreator", member=WRITER):
    return Res(MEMBER, f"{bucket_name}-writer", {"bucket": bucket_name, "role": role, "member": member},
               deps=[bucket_name])


def test_logged_buckets_and_their_writable_log_bucket_pass():
    stack = [bucket("logs"), writer("logs"), bucket("artifacts", "logs", deps=["logs", "logs-writer"]),
             bucket("features", "logs")]
    assert check_stack(RULE, stack).passed


def test_a_bucket_without_logging_fails_on_that_bucket():
    stack = [bucket("logs"), writer("logs"), bucket("artifacts", "logs"), bucket("features")]
    outcome = check_stack(RULE, stack)
    assert outcome.violations == [(outcome.messages[0], stack[-1].urn)]
    assert "features: logging.logBucket is not set" in outcome.messages[0]


def test_a_log_bucket_the_writer_cannot_write_to_fails():
    for grants in ([], [writer("logs", role="roles/storage.objectViewer")], [writer("logs", member="group:ops@acme.dev")]):
        stack = [bucket("logs"), *grants, bucket("artifacts", "logs")]
        outcome = check_stack(RULE, stack)
        assert outcome.violations == [(outcome.messages[0], stack[0].urn)], grants
        assert "receives the usage logs of artifacts" in outcome.messages[0] and "drops the logs" in outcome.messages[0]


def test_an_unknown_log_bucket_name_is_tied_through_the_dependency_or_left_for_the_update():
    tied = [bucket("logs"), writer("logs"), bucket("artifacts", UNKNOWN, deps=["logs"])]
    assert check_stack(RULE, tied).passed
    untied = [bucket("logs"), writer("logs"), bucket("artifacts", UNKNOWN)]
    outcome = check_stack(RULE, untied)
    # "logs" no longer counts as a log bucket, so it is reported; which bucket artifacts logs to is open
    assert outcome.violations == [(outcome.messages[0], untied[0].urn)]
    assert "which bucket logging.logBucket names" in outcome.cannot_check


def test_a_log_bucket_outside_the_program_is_out_of_scope():
    assert check_stack(RULE, [bucket("artifacts", "central-audit-logs")]).passed
