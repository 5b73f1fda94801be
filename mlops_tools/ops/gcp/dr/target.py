"""What the GCP DR runbook needs from the stack outputs, validated once (`parse_target`).

Everything comes from outputs the GCP stack exports (stacks/gcp.py, components/dr/gcp.py `RUNBOOK_OUTPUTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.outputs import Objectives, dr_outputs, optional_str, require

DR_CLUSTER_SUFFIX = "dr"  # the feature store names the DR Bigtable cluster `<instance[:26]>-dr`
APP_PROFILE = "default"  # the profile Feast's Bigtable online store reads and writes through


@dataclass(frozen=True)
class GcpTarget(Objectives):
    stack: str
    project: str
    region: str
    dr_region: str
    rpo_minutes: int
    rto_minutes: int
    primary_instance: str
    replica_instance: str
    zone: str  # the Cloud DNS private zone
    record_name: str  # with the trailing dot
    transfer_jobs: tuple[tuple[str, str], ...]  # (kind, transferJobs/...)
    bigtable_instance: Optional[str]
    image_repository_urls: tuple[tuple[str, str], ...]

    def cluster_id(self, suffix: str) -> str:
        """components/features/gcp.py names Bigtable clusters `<instance id, at most 26 chars>-<suffix>`."""
        return f"{(self.bigtable_instance or '')[:26].rstrip('-')}-{suffix}"


def parse_target(outputs: dict[str, Any], stack: str, where: str) -> GcpTarget:
    found = dr_outputs(outputs, stack, where, "gcp")
    region, dr, dr_where, dr_region = found.region, found.dr, found.dr_where, found.dr_region
    rpo, rto = found.rpo_minutes, found.rto_minutes
    record = require(outputs, "trackingDbEndpointRecord", dict, where)
    record_where = f"{where} (trackingDbEndpointRecord)"
    jobs = dr.get("transferJobs") or {}
    if not isinstance(jobs, dict) or not all(isinstance(v, str) and v.startswith("transferJobs/") for v in jobs.values()):
        raise UsageError(f"{dr_where}: output 'transferJobs' should map a kind to transferJobs/<id>, got {jobs!r}")
    urls = dr.get("imageRepositoryUrls") or {}
    if not isinstance(urls, dict):
        raise UsageError(f"{dr_where}: output 'imageRepositoryUrls' should map an image kind to a URL, got {urls!r}")
    return GcpTarget(
        stack=stack, project=require(outputs, "project", str, where), region=region, dr_region=dr_region,
        rpo_minutes=rpo, rto_minutes=rto, primary_instance=require(outputs, "trackingDbInstanceId", str, where),
        replica_instance=require(dr, "dbReplicaId", str, dr_where),
        zone=require(record, "zoneId", str, record_where),
        record_name=require(record, "name", str, record_where).rstrip(".") + ".",
        transfer_jobs=tuple(sorted(jobs.items())),
        bigtable_instance=optional_str(outputs, "onlineStoreInstance", where),
        image_repository_urls=tuple(sorted(urls.items())),
    )
