"""Cloud Storage implementation of the hardened bucket (see components/storage/__init__.py for the contract).

GCS differs from S3 in ways that make some of the AWS pieces unnecessary, not weaker:
- every request is HTTPS (there is no plain-HTTP endpoint, so no TLS-only policy to write);
- uniform bucket-level access turns object ACLs off (IAM only), public access prevention forbids
  ``allUsers`` / ``allAuthenticatedUsers`` grants whatever IAM says;
- the default key is the named Cloud KMS key, and Google-managed and customer-supplied encryption
  are *restricted* for new objects, which is what S3's "deny other keys" bucket policy does;
- soft delete keeps deleted objects recoverable for a while on top of object versioning.

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
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:storage:SecureBucket", name, None, opts)
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
            lifecycle_rules=lifecycle_rules(args),
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
