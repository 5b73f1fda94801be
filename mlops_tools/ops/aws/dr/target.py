"""What the AWS DR runbook needs from the stack outputs, validated once (`parse_target`), and its constants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Optional

from mlops_tools.ops.aws.clients import check_region
from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.outputs import Objectives, dr_outputs
from mlops_tools.ops.runbook.outputs import optional_str as _optional_str
from mlops_tools.ops.runbook.outputs import require as _require

LAG_WINDOW = dt.timedelta(minutes=10)
REPLICATION_METRIC_WINDOW = dt.timedelta(minutes=15)
RETIRED_SUFFIX = "-retired"
TAG_PROMOTED_AT = "mlops:dr:promotion-requested-at"
TAG_LAG_AT_PROMOTION = "mlops:dr:lag-seconds-at-promotion"
RECORD_TTL_SECONDS = 30


@dataclass(frozen=True)
class DrTarget(Objectives):
    """What the runbook needs from the stack outputs, validated once."""

    stack: str
    region: str
    dr_region: str
    rpo_minutes: int
    rto_minutes: int
    primary_db_id: str
    replica_db_id: str
    replica_db_arn: str
    record_zone_id: str
    record_name: str
    artifact_bucket: Optional[str]
    artifact_replica_bucket: Optional[str]
    feature_bucket: Optional[str]
    feature_replica_bucket: Optional[str]
    online_table: Optional[str]
    online_replica_region: Optional[str]
    image_repositories: tuple[str, ...]
    image_replica_region: Optional[str]


def _bucket_from_path(path: Optional[str], key: str, where: str) -> Optional[str]:
    if path is None:
        return None
    if not path.startswith("s3://") or len(path) <= len("s3://"):
        raise UsageError(f"{where}: output {key!r} should be an s3:// path, got {path!r}")
    return path[len("s3://"):].split("/", 1)[0]


def _repository_name(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    return url.split("/", 1)[1] if "/" in url else url


def arn_region(arn: str) -> Optional[str]:
    parts = arn.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" else None


def parse_target(outputs: dict[str, Any], stack: str, where: str) -> DrTarget:
    found = dr_outputs(outputs, stack, where, "aws", check_region)
    region, dr, dr_where, dr_region = found.region, found.dr, found.dr_where, found.dr_region
    rpo, rto = found.rpo_minutes, found.rto_minutes
    replica_arn = _require(dr, "dbReplicaArn", str, dr_where)
    if arn_region(replica_arn) != dr_region:
        raise UsageError(
            f"{dr_where}: the database replica {replica_arn} is not in the DR region {dr_region} (wrong region)"
        )
    record = _require(outputs, "trackingDbEndpointRecord", dict, where)
    repositories = tuple(
        name
        for name in (
            _repository_name(_optional_str(outputs, "modelImageRepositoryUrl", where)),
            _repository_name(_optional_str(outputs, "trainingImageRepositoryUrl", where)),
        )
        if name
    )
    return DrTarget(
        stack=stack,
        region=region,
        dr_region=dr_region,
        rpo_minutes=rpo,
        rto_minutes=rto,
        primary_db_id=_require(outputs, "trackingDbInstanceId", str, where),
        replica_db_id=_require(dr, "dbReplicaId", str, dr_where),
        replica_db_arn=replica_arn,
        record_zone_id=_require(record, "zoneId", str, f"{where} (trackingDbEndpointRecord)").split("/")[-1],
        record_name=_require(record, "name", str, f"{where} (trackingDbEndpointRecord)").rstrip(".") + ".",
        artifact_bucket=_optional_str(outputs, "artifactBucket", where),
        artifact_replica_bucket=_optional_str(dr, "artifactReplicaBucket", dr_where),
        feature_bucket=_bucket_from_path(
            _optional_str(outputs, "featureOfflineStorePath", where), "featureOfflineStorePath", where
        ),
        feature_replica_bucket=_optional_str(dr, "featureReplicaBucket", dr_where),
        online_table=_optional_str(outputs, "onlineStoreTable", where),
        online_replica_region=_optional_str(dr, "onlineStoreReplicaRegion", dr_where),
        image_repositories=repositories,
        image_replica_region=_optional_str(dr, "imageReplicaRegion", dr_where),
    )
