"""What the GCP DR runbook needs from the stack outputs, validated once (`parse_target`).

Everything comes from outputs the GCP stack exports (stacks/gcp.py, components/dr/gcp.py `RUNBOOK_OUTPUTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from mlops_tools.ops.common import UsageError
from mlops_tools.ops.runbook.outputs import optional_str, require

DR_CLUSTER_SUFFIX = "dr"  # the feature store names the DR Bigtable cluster `<instance[:26]>-dr`
APP_PROFILE = "default"  # the profile Feast's Bigtable online store reads and writes through


@dataclass(frozen=True)
class GcpTarget:
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

    @property
    def rpo_seconds(self) -> int:
        return self.rpo_minutes * 60

    @property
    def rto_seconds(self) -> int:
        return self.rto_minutes * 60

    def cluster_id(self, suffix: str) -> str:
        """components/features/gcp.py names Bigtable clusters `<instance id, at most 26 chars>-<suffix>`."""
        return f"{(self.bigtable_instance or '')[:26].rstrip('-')}-{suffix}"


def parse_target(outputs: dict[str, Any], stack: str, where: str) -> GcpTarget:
    if outputs.get("cloud") != "gcp":
        raise UsageError(f"{where}: this is the GCP DR runbook; the stack's cloud is {outputs.get('cloud')!r}")
    region = require(outputs, "region", str, where)
    dr = require(outputs, "dr", dict, where)
    if dr.get("enabled") is not True:
        raise UsageError(f"{where}: DR is not enabled for stack {stack} (set mlops:dr.enabled and deploy first)")
    dr_where = f"{where} (dr)"
    dr_region = require(dr, "region", str, dr_where)
    if dr_region == region:
        raise UsageError(f"{where}: the DR region {dr_region} is the primary region; DR needs a second region")
    rpo, rto = require(dr, "rpoMinutes", int, dr_where), require(dr, "rtoMinutes", int, dr_where)
    if rpo <= 0 or rto <= 0:
        raise UsageError(f"{dr_where}: rpoMinutes and rtoMinutes must be positive, got {rpo} and {rto}")
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
