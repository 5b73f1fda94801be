"""GCP replication health for `status`: the Cloud SQL replica's lag, the Storage Transfer replication jobs,
the Bigtable DR cluster, and the DR image repositories."""

from __future__ import annotations

from typing import Callable

from google.auth.exceptions import GoogleAuthError
from googleapiclient.errors import Error as GoogleApiError

from mlops_tools.ops.gcp.dr.calls import GcpCalls, describe_failure, is_replica, master_of, private_ip
from mlops_tools.ops.runbook import FAIL, OK, WARN, Check, guarded, lag_check

GOOGLE_ERRORS = (GoogleApiError, GoogleAuthError)


def _guarded(area: str, check: Callable[[], list[Check]]) -> list[Check]:
    return guarded(area, check, GOOGLE_ERRORS, describe_failure)


def check_database(gcp: GcpCalls) -> list[Check]:
    target = gcp.target
    replica = gcp.instance(target.replica_instance)
    if replica is None:
        return [Check("database", FAIL, f"replica {target.replica_instance} not found in {target.dr_region}")]
    if not is_replica(replica):
        record = gcp.record()
        serving = bool(record) and private_ip(replica) in record.get("rrdatas", [])
        return [Check("database", FAIL, f"{target.replica_instance} in {target.dr_region} is a standalone instance"
                      + (f" and {target.record_name} points at it (failed over): nothing protects it; run make "
                         "dr-failback" if serving else ": nothing protects the primary"))]
    if master_of(replica) != target.primary_instance:
        return [Check("database", FAIL, f"replica {target.replica_instance} replicates from {master_of(replica)}, "
                                        f"not from {target.primary_instance}")]
    checks = []
    if replica.get("state") != "RUNNABLE":
        checks.append(Check("database", FAIL, f"replica {target.replica_instance} is {replica.get('state')}"))
    lag = gcp.replica_lag_seconds(target.replica_instance)
    checks.append(lag_check("database", f"replica {target.replica_instance} in {target.dr_region}", lag,
                            target.rpo_seconds))
    return checks


def check_transfer_jobs(gcp: GcpCalls) -> list[Check]:
    checks = []
    for kind, job_name in gcp.target.transfer_jobs:
        area = kind if kind in ("artifacts", "features") else f"bucket:{kind}"
        job = gcp.transfer_job(job_name)
        if job is None:
            checks.append(Check(area, FAIL, f"replication job {job_name} not found"))
            continue
        spec = job.get("replicationSpec") or {}
        sink = (spec.get("gcsDataSink") or {}).get("bucketName")
        if job.get("status") != "ENABLED" or not spec:
            checks.append(Check(area, FAIL, f"replication job {job_name} is {job.get('status')}"
                                            + ("" if spec else " and not a replication job")))
            continue
        # Storage Transfer states no RPO for event-driven replication; the drill compares the newest object.
        checks.append(Check(area, OK, f"{(spec.get('gcsDataSource') or {}).get('bucketName')} -> {sink}: "
                                      f"event-driven replication {job_name} enabled"))
    return checks or [Check("artifacts", FAIL, "the stack exports no replication jobs")]


def check_online_store(gcp: GcpCalls) -> list[Check]:
    target = gcp.target
    if not target.bigtable_instance:
        return [Check("online-store", FAIL, "the stack exports no Bigtable instance")]
    cluster = gcp.cluster()
    name = target.cluster_id("dr")
    if cluster is None:
        return [Check("online-store", FAIL, f"Bigtable DR cluster {name} not found")]
    if cluster.get("state") != "READY":
        return [Check("online-store", WARN, f"Bigtable DR cluster {name} is {cluster.get('state')}")]
    return [Check("online-store", OK, f"Bigtable DR cluster {name} in {cluster.get('location', '').split('/')[-1]} "
                                      "is READY (replication managed by Bigtable)")]


def check_images(gcp: GcpCalls) -> list[Check]:
    checks = []
    for kind, url in gcp.target.image_repository_urls:
        repository = gcp.repository(url)
        checks.append(Check("images", OK, f"{kind}: DR repository {url} exists (the release pipeline pushes to it)")
                      if repository else Check("images", FAIL, f"{kind}: DR repository {url} not found"))
    return checks or [Check("images", FAIL, "the stack exports no DR image repositories")]


def collect_status(gcp: GcpCalls) -> list[Check]:
    return [*_guarded("database", lambda: check_database(gcp)),
            *_guarded("artifacts", lambda: check_transfer_jobs(gcp)),
            *_guarded("online-store", lambda: check_online_store(gcp)),
            *_guarded("images", lambda: check_images(gcp))]
