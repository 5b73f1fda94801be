"""Cloud Storage implementation of the hardened bucket (see components/storage/__init__.py for the contract).

GCS differs from S3 in ways that make some of the AWS pieces unnecessary, not weaker:
- every request is HTTPS (there is no plain-HTTP endpoint, so no TLS-only policy to write);
- uniform bucket-level access turns object ACLs off (IAM only), public access prevention forbids
  ``allUsers`` / ``allAuthenticatedUsers`` grants whatever IAM says;
- the default key is the named Cloud KMS key, and Google-managed and customer-supplied encryption
  are *restricted* for new objects, which is what S3's "deny other keys" bucket policy does;
- soft delete keeps deleted objects recoverable for a while on top of object versioning.

Access logging (CKV_GCP_62, CIS GCP 5.3-style usage logs): each bucket writes Cloud Storage usage and
storage logs (hourly CSV files: requester, object, method, status, bytes) into the stack's
``AccessLogBucket`` in the same region. The log bucket is hardened like any other (CMEK, uniform
access, versioned) and is the one bucket that does not log itself (it would log its own log writes).

Lifecycle: old current objects tier down to NEARLINE (30-day minimum, like S3 IA) and later to
COLDLINE (GCS cold classes are all instant-access, like Glacier IR); noncurrent versions are
deleted after the configured days; abandoned XML-API multipart uploads are aborted.
"""

from __future__ import annotations

import hashlib
import re
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_gcp as gcp

from components.storage import BucketArgs

MAX_BUCKET_NAME = 63
# Cloud Storage writes usage and storage logs as this Google group; with uniform bucket-level access (no
# ACLs) it needs roles/storage.objectCreator on the log bucket (Cloud Storage "Usage logs & storage logs"
# docs, gcloud steps). Delivery is not checked at configuration time: without the grant logs are silently
# dropped, so the logged buckets depend on it. Not visible offline: the delivery itself.
USAGE_LOG_WRITER = "group:cloud-storage-analytics@google.com"
USAGE_LOG_WRITER_ROLE = "roles/storage.objectCreator"
ACCESS_LOG_RETENTION_DAYS = 365  # then the log objects are deleted (one year of request history)
SOFT_DELETE_SECONDS = 7 * 24 * 3600  # the GCS minimum when soft delete is on; deleted objects stay restorable a week
INFREQUENT_CLASS, ARCHIVE_CLASS = "NEARLINE", "COLDLINE"


def bucket_name(prefix: str, project: str) -> str:
    """``<prefix>-<project>``: GCS names are global and project ids are unique, so this never collides.

    Too long for GCS's 63 characters, the project id is replaced by a short hash of it (still stable).
    """
    name = f"{prefix}-{project}"
    if len(name) > MAX_BUCKET_NAME:
        name = f"{prefix}-{hashlib.sha256(project.encode()).hexdigest()[:10]}"
    return name


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags as GCP labels (lowercase letters, digits, ``_`` and ``-``; 63 characters)."""
    def clean(value: str) -> str:
        return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]
    return {clean(key): clean(value) for key, value in tags.items() if clean(key)[:1].isalpha()}


def lifecycle_rules(args: BucketArgs) -> list[dict]:
    """Expire noncurrent versions, abort abandoned uploads, tier old objects down."""
    rules: list[dict] = [
        {"action": {"type": "Delete"},
         "condition": {"days_since_noncurrent_time": args.noncurrent_version_expiry_days, "with_state": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": args.abort_incomplete_upload_days}},
    ]
    prefixes = {"matches_prefixes": [args.tier_down_prefix]} if args.tier_down_prefix else {}
    for days, storage_class, colder_than in ((args.infrequent_access_after_days, INFREQUENT_CLASS, ["STANDARD"]),
                                             (args.archive_after_days, ARCHIVE_CLASS, ["STANDARD", INFREQUENT_CLASS])):
        if days is not None:
            rules.append({"action": {"type": "SetStorageClass", "storage_class": storage_class},
                          "condition": {"age": days, "with_state": "LIVE", "matches_storage_classes": colder_than,
                                        **prefixes}})
    return rules


class SecureBucket(pulumi.ComponentResource):
    """A private, versioned, CMEK-only GCS bucket with uniform access, soft delete and lifecycle rules.

    Attributes: ``bucket`` (the gcp.storage.Bucket), ``bucket_name``, ``bucket_arn`` (the bucket's
    self link, GCP's cloud identifier), ``url`` (``gs://<name>``), ``kms_key_arn`` (the key id).
    """

    def __init__(self, name: str, args: BucketArgs, kms_key_id: pulumi.Input[str], *, project: pulumi.Input[str],
                 location: str, depends_on: Sequence[pulumi.Resource] = (),
                 access_logs: Optional["AccessLogBucket"] = None, extra_lifecycle_rules: Sequence[dict] = (),
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:storage:SecureBucket", name, None, opts)
        logging: Optional[dict] = None
        if access_logs is not None:
            # Objects <prefix>_usage_<time>_... and <prefix>_storage_<time>_... in the region's log bucket.
            logging = {"log_bucket": access_logs.bucket_name, "log_object_prefix": args.name}
            depends_on = [*depends_on, access_logs.writer]  # logs flow from the first request on
        self.bucket = gcp.storage.Bucket(
            name,
            name=pulumi.Output.from_input(project).apply(lambda project_id: bucket_name(args.name, project_id)),
            project=project,
            location=location,
            storage_class="STANDARD",
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption={
                "default_kms_key_name": kms_key_id,
                # New objects can only be written with the bucket's customer-managed key.
                "google_managed_encryption_enforcement_config": {"restriction_mode": "FullyRestricted"},
                "customer_supplied_encryption_enforcement_config": {"restriction_mode": "FullyRestricted"},
            },
            soft_delete_policy={"retention_duration_seconds": SOFT_DELETE_SECONDS},
            lifecycle_rules=[*lifecycle_rules(args), *extra_lifecycle_rules],
            logging=logging,
            force_destroy=args.force_destroy,
            labels=gcp_labels(args.tags),
            # `depends_on`: the storage service agent's grant on the key (creation fails without it).
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, depends_on=list(depends_on)),
        )
        self.kms_key_arn = pulumi.Output.from_input(kms_key_id)
        self.bucket_name = self.bucket.name
        self.bucket_arn = self.bucket.self_link
        self.url = self.bucket.url
        self.location = location
        self.register_outputs({"bucketName": self.bucket_name, "bucketArn": self.bucket_arn})


class AccessLogBucket(pulumi.ComponentResource):
    """The region's Cloud Storage usage-log bucket: a ``SecureBucket`` (CMEK, uniform access, versioned) that
    Cloud Storage's log writer may add objects to, and that keeps logs ``ACCESS_LOG_RETENTION_DAYS``.

    One per stack and region (logs stay in the region of the bucket they describe). It is the documented
    exception to "every bucket logs its access": it does not log into itself. Attributes: ``store`` (the
    SecureBucket), ``bucket_name``, ``writer`` (the writer's grant, which logged buckets depend on).
    """

    def __init__(self, name: str, args: BucketArgs, kms_key_id: pulumi.Input[str], *, project: pulumi.Input[str],
                 location: str, depends_on: Sequence[pulumi.Resource] = (),
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:storage:AccessLogBucket", name, None, opts)
        self.store = SecureBucket(
            name, args, kms_key_id, project=project, location=location, depends_on=depends_on,
            extra_lifecycle_rules=[{"action": {"type": "Delete"},
                                    "condition": {"age": ACCESS_LOG_RETENTION_DAYS, "with_state": "LIVE"}}],
            opts=pulumi.ResourceOptions(parent=self))
        self.bucket_name = self.store.bucket_name
        self.writer = gcp.storage.BucketIAMMember(
            f"{name}-usage-log-writer", bucket=self.store.bucket_name, role=USAGE_LOG_WRITER_ROLE,
            member=USAGE_LOG_WRITER, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"bucketName": self.bucket_name})
