"""Hardened object-store buckets, shared by every capability that keeps data in object storage.

Tracking artifacts, the Feast registry/offline store and their DR replicas all need the same
guarantees, so they come from ONE helper instead of being re-written per capability:

- encrypted by default with a named customer-managed key (never the provider-managed key),
- versioned, so an overwrite or delete can be undone and cross-region replication is possible,
- no public access of any kind, object ownership enforced (ACLs disabled),
- a resource policy that refuses plain-HTTP / TLS < 1.2 requests and uploads encrypted with any
  other key,
- lifecycle: old current objects tier down to cheaper storage, noncurrent versions expire,
  abandoned multipart uploads are cleaned up.

Contract (every cloud's implementation exposes the same outputs):

- ``bucket_name``: the bucket's name (what URIs like ``s3://<name>/...`` use).
- ``bucket_arn``: the cloud identifier used in IAM / replication settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

# Cheapest infrequent-access class has a 30-day minimum storage duration on S3; transitioning
# earlier is rejected by the API, so the contract refuses it up front.
MIN_INFREQUENT_ACCESS_DAYS = 30
# S3 bucket-name prefixes are limited to 37 characters (the provider appends a unique suffix); one goes to "-".
MAX_NAME_LENGTH = 36


@dataclass(frozen=True)
class BucketArgs:
    """What a hardened bucket needs on any cloud."""

    name: str  # resource name, e.g. "mlops-dev-artifacts"
    tags: Mapping[str, str] = field(default_factory=dict)
    # Noncurrent (overwritten / deleted) versions are kept this long, then expire.
    noncurrent_version_expiry_days: int = 90
    # Current objects older than this move to infrequent-access storage (None: never).
    infrequent_access_after_days: Optional[int] = 30
    # ...and then to instant-retrieval archive storage (None: never).
    archive_after_days: Optional[int] = 180
    # Only objects under this prefix tier down ("" = the whole bucket).
    tier_down_prefix: str = ""
    abort_incomplete_upload_days: int = 7
    # Dev may empty a bucket on destroy; prod never does (and protects it).
    force_destroy: bool = False
    protect: bool = False

    def __post_init__(self) -> None:
        if not 3 <= len(self.name) <= MAX_NAME_LENGTH:
            raise ValueError(f"bucket name prefix {self.name!r} must be 3-{MAX_NAME_LENGTH} characters")
        if self.noncurrent_version_expiry_days < 1:
            raise ValueError(f"{self.name}: noncurrent_version_expiry_days must be >= 1")
        ia, archive = self.infrequent_access_after_days, self.archive_after_days
        if ia is not None and ia < MIN_INFREQUENT_ACCESS_DAYS:
            raise ValueError(f"{self.name}: infrequent_access_after_days must be >= {MIN_INFREQUENT_ACCESS_DAYS}")
        if ia is not None and archive is not None and archive <= ia:
            raise ValueError(f"{self.name}: archive_after_days must be later than infrequent_access_after_days")
        if self.force_destroy and self.protect:
            raise ValueError(f"{self.name}: a protected bucket is never force-destroyed")
