"""Every Cloud Storage bucket records who accessed which object: usage logs into a log bucket.

A bucket passes when ``logging.logBucket`` is set. The one exception is a log bucket itself: a bucket
that other buckets of the program log into need not log (it would record its own log writes). A log
bucket must let Cloud Storage's log writer, the group ``cloud-storage-analytics@google.com``, create
objects (``roles/storage.objectCreator`` through bucket IAM): GCS does not check this when logging is
configured, it silently drops the logs. Log buckets outside the program are out of scope.

Buckets are tied to their log bucket through the ``logging`` property's dependencies, else the literal
bucket name, else a single bucket dependency (``mlops_policy.correlate``).
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, correlate, is_set, is_unknown, violation

from .._gcp import Grant, path, readable_grants

BUCKET = "gcp:storage/bucket:Bucket"
WRITER = "group:cloud-storage-analytics@google.com"
WRITER_ROLES = {"roles/storage.objectcreator", "roles/storage.legacybucketwriter", "roles/storage.objectadmin",
                "roles/storage.admin"}


TYPES = (BUCKET, "gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding",
         "gcp:storage/bucketIAMPolicy:BucketIAMPolicy")


def _named(bucket, value: str) -> bool:
    name = bucket.props.get("name")
    return isinstance(name, str) and not is_unknown(name) and name == value.strip().removeprefix("gs://").rstrip("/")


def _writes(grant_resource) -> bool:
    """True when the IAM resource (possibly) lets the log writer create objects; unknowns count as yes."""
    for grant in readable_grants(grant_resource, "who may write logs"):
        if not isinstance(grant, Grant):
            return True  # unknown or unreadable policyData: other rules report it
        role_ok = is_unknown(grant.role) or str(grant.role).strip().lower() in WRITER_ROLES
        members_ok = is_unknown(grant.members) or any(is_unknown(m) or str(m).strip().lower() == WRITER
                                                      for m in grant.members)
        if role_ok and members_ok:
            return True
    return False


def check(stack, config):
    buckets = stack.of_type(BUCKET)
    iam = stack.of_types(TYPES[1:])
    targets: dict = {}  # log bucket urn -> names of the buckets logging into it
    unlogged = []
    for bucket in buckets:
        logging = bucket.props.get("logging")
        target = path(logging, "logBucket")
        if not is_unknown(logging) and not is_set(target):
            unlogged.append(bucket)
            continue
        matches, decided = correlate(bucket, "logging", [b for b in buckets if b is not bucket], _named, value=target)
        if not decided:
            yield cannot_check("which bucket logging.logBucket names", bucket)
        for match in matches:
            targets.setdefault(match.urn, []).append(bucket.name)
    for bucket in unlogged:
        if bucket.urn not in targets:
            yield violation(f"{bucket.name}: logging.logBucket is not set, so reads and writes of its objects are not "
                            "recorded (usage logs).", bucket)
    for bucket in buckets:
        sources = targets.get(bucket.urn)
        if sources and not any(_writes(g) for g in iam
                               if correlate(g, "bucket", [bucket], _named).matches):
            yield violation(f"{bucket.name} receives the usage logs of {', '.join(sorted(sources))}, but no bucket IAM "
                            f"grant gives {WRITER} roles/storage.objectCreator on it: Cloud Storage drops the logs.",
                            bucket)


RULE = StackRule(
    name="gcp-storage-bucket-enable-access-logging",
    description="Cloud Storage buckets write usage logs to a log bucket that Cloud Storage's log writer may write to.",
    severity="medium",
    remediation="Set logging={'log_bucket': <the region's log bucket>, 'log_object_prefix': <bucket>} on each bucket "
                "(components/storage/gcp.py AccessLogBucket) and grant group:cloud-storage-analytics@google.com "
                "roles/storage.objectCreator on the log bucket.",
    frameworks=SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",  # audit logging of the model and feature data, as the AWS pack's S3 access-logging rule
    tags=("gcs", "logging"),
    resource_types=TYPES,
    check=check,
)
