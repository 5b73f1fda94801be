"""The GCP DR runbook with Google's API client against a local fake: the same scenarios as AWS (healthy,
lagging, replica missing, promotion failing half-way, re-run after a crash), throttling and operations."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mlops_tools.ops.gcp.dr import GcpDr
from mlops_tools.ops.runbook import cli

from gcp_fake import DR_CLUSTER, PRIMARY, PRIMARY_IP, RECORD, REPLICA, REPLICA_IP, prod_outputs

NOW = dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.timezone.utc)


def run(capsys, google, outputs_file, *argv: str):
    slept: list[float] = []
    extra = [] if argv[0] == "status" else ["--poll-seconds", "0"]
    code = cli.main([*argv, "--stack", "gcp-prod", "--outputs-file", str(outputs_file), "--endpoint-url", google.url,
                     *extra], GcpDr(slept.append), lambda: NOW)
    out, err = capsys.readouterr()
    return code, out, err, slept


def status_json(capsys, google, outputs_file):
    code, out, _, slept = run(capsys, google, outputs_file, "status", "--json")
    report = json.loads(out)
    return code, {check["area"]: check for check in report["checks"]}, report, slept


def test_healthy_stack_reports_every_store_ok(capsys, google, outputs_file):
    code, out, err, _ = run(capsys, google, outputs_file, "status")
    assert code == 0, err
    assert out.splitlines()[0] == "DR status for stack gcp-prod: europe-west4 -> europe-west1 (RPO 15 min, RTO 60 min)"
    assert f"OK      database      replica {REPLICA} in europe-west1: lag 12 s (RPO 900 s)" in out  # newest point
    for area in ("artifacts", "features", "online-store", "images"):
        assert f"OK      {area}" in out
    assert out.rstrip().endswith("overall: HEALTHY")


def test_lagging_replica_is_at_risk_then_fails(capsys, google, outputs_file):
    google.state.lag[REPLICA] = 500.0
    code, checks, report, _ = status_json(capsys, google, outputs_file)
    assert code == 0 and checks["database"]["status"] == "AT RISK" and report["overall"] == "DEGRADED"
    google.state.lag[REPLICA] = None
    code, checks, _, _ = status_json(capsys, google, outputs_file)
    assert checks["database"]["status"] == "AT RISK" and "cannot be bounded" in checks["database"]["detail"]
    google.state.lag[REPLICA] = 901.0
    code, checks, report, _ = status_json(capsys, google, outputs_file)
    assert code == 1 and checks["database"]["status"] == "FAIL" and report["overall"] == "UNHEALTHY"


def test_missing_replica_and_stopped_replication_fail_without_hiding_the_rest(capsys, google, outputs_file):
    del google.state.instances[REPLICA]
    google.state.jobs["transferJobs/997180207322163597"] = "DISABLED"
    google.state.cluster_state = None
    code, checks, _, _ = status_json(capsys, google, outputs_file)
    assert code == 1
    assert checks["database"]["detail"] == f"replica {REPLICA} not found in europe-west1"
    assert checks["features"]["status"] == "FAIL" and "is DISABLED" in checks["features"]["detail"]
    assert checks["online-store"]["status"] == "FAIL" and DR_CLUSTER in checks["online-store"]["detail"]
    assert checks["artifacts"]["status"] == "OK" and checks["images"]["status"] == "OK"


def test_throttled_requests_wait_what_the_api_asks(capsys, google, outputs_file):
    google.state.throttle["/timeSeries"] = 2
    code, checks, _, slept = status_json(capsys, google, outputs_file)
    assert code == 0 and checks["database"]["status"] == "OK" and slept == [7.0, 7.0]


def test_dry_run_prints_the_plan_and_changes_nothing(capsys, google, outputs_file):
    code, out, _, _ = run(capsys, google, outputs_file, "failover", "--dry-run")
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "plan for stack gcp-prod (dry run, nothing changed):"
    assert lines[1] == f"1. promote Cloud SQL replica {REPLICA} to a standalone primary  [asks first]"
    assert lines[2].startswith("2. turn on backups, point-in-time recovery")
    assert lines[3] == f"3. repoint {RECORD} from ['{PRIMARY_IP}'] to {REPLICA_IP} ({REPLICA})"
    assert lines[4] == "4. route the online store's Bigtable app profile to the DR cluster only"
    assert not google.calls("POST") and not google.calls("PATCH")


def test_failover_promotes_repoints_the_record_and_switches_the_online_store(capsys, google, outputs_file):
    code, out, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 0, err
    assert [path for _, path, _ in google.calls("POST", "promoteReplica")] == [
        f"/v1/projects/acme-ml-prod/instances/{REPLICA}/promoteReplica"]
    assert google.state.instances[REPLICA].master is None and google.state.instances[REPLICA].backups
    assert google.state.record == [REPLICA_IP] and google.state.routing == [DR_CLUSTER]
    [change] = google.state.changes
    assert change["deletions"][0]["rrdatas"] == [PRIMARY_IP] and change["additions"][0]["ttl"] == 60
    assert "measured RPO (replica lag at promotion): 12 s; target 900 s" in out and "RTO target 3600 s: met" in out
    code, out, _, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 0 and out.startswith("nothing to do") and len(google.calls("POST", "promoteReplica")) == 1
    code, checks, _, _ = status_json(capsys, google, outputs_file)
    assert code == 1 and "points at it (failed over)" in checks["database"]["detail"]


def test_failover_refuses_a_lag_beyond_the_rpo(capsys, google, outputs_file):
    google.state.lag[REPLICA] = 2000.0
    code, _, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 1 and "lags 2000 s, beyond the RPO of 900 s" in err and not google.calls("POST")


def test_failover_without_a_replica_stops_with_one_line(capsys, google, outputs_file):
    del google.state.instances[REPLICA]
    code, _, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 1 and f"error: replica {REPLICA} not found in europe-west1: nothing to promote" in err
    assert "Traceback" not in err


def test_promotion_failing_half_way_leaves_the_record_and_a_rerun_finishes(capsys, google, outputs_file):
    google.state.promotion_fails = 1
    code, _, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 1 and "INTERNAL_ERROR: An internal error occurred while promoting the replica" in err
    assert google.state.record == [PRIMARY_IP] and google.state.instances[REPLICA].master == PRIMARY
    code, _, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 0, err
    assert len(google.calls("POST", "promoteReplica")) == 2 and google.state.record == [REPLICA_IP]


def test_rerun_after_a_crash_waits_for_the_running_promotion(capsys, google, outputs_file):
    google.state.start(REPLICA, "PROMOTE_REPLICA")  # asked for by a run that then crashed
    code, _, err, _ = run(capsys, google, outputs_file, "failover", "--yes")
    assert code == 0, err
    assert not google.calls("POST", "promoteReplica") and "already running" in err
    assert google.state.record == [REPLICA_IP]


def test_failback_refuses_while_behind_then_switches_back(capsys, google, outputs_file):
    run(capsys, google, outputs_file, "failover", "--yes")
    code, _, err, _ = run(capsys, google, outputs_file, "failback", "--yes")
    assert code == 1 and "not a replica of" in err  # the old primary diverged: it must be re-created first
    google.state.instances[PRIMARY].master = REPLICA  # the operator re-created it as a replica (docs/dr.md)
    google.state.lag[PRIMARY] = 120.0
    code, _, err, _ = run(capsys, google, outputs_file, "failback", "--yes")
    assert code == 1 and "still behind (lag 120 s" in err and google.state.record == [REPLICA_IP]
    google.state.lag[PRIMARY] = 2.0
    code, out, err, _ = run(capsys, google, outputs_file, "failback", "--yes")
    assert code == 0, err
    assert google.state.record == [PRIMARY_IP] and google.state.routing == []
    assert google.state.instances[PRIMARY].master is None and "failback complete" in out


@pytest.mark.parametrize("change, message", [
    (lambda o: o.update(cloud="aws"), "this is the gcp DR runbook; this stack's cloud is 'aws'"),
    (lambda o: o["dr"].update(enabled=False), "DR is not enabled for stack gcp-prod"),
    (lambda o: o["dr"].update(transferJobs={"artifacts": "job-1"}), "output 'transferJobs' should map"),
])
def test_bad_outputs_name_the_key(capsys, google, tmp_path, change, message):
    outputs = prod_outputs()
    change(outputs)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(outputs))
    code, _, err, _ = run(capsys, google, path, "status")
    assert code == 2 and message in err and "Traceback" not in err
