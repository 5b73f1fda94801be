"""The Azure DR runbook with the real Azure SDK against a fake ARM: the same scenarios as AWS (healthy, lagging,
replica missing, promotion failing half-way, re-run after a crash), throttling and long-running operations."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mlops_tools.ops.azure.dr import AzureDr
from mlops_tools.ops.runbook import cli

from arm_fake import PRIMARY, REPLICA, WRITER, NoSleepTransport

NOW = dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.timezone.utc)


def run(capsys, arm, outputs_file, *argv: str, transport=None):
    transport = transport or NoSleepTransport()
    extra = [] if argv[0] == "status" else ["--poll-seconds", "0"]
    code = cli.main([*argv, "--stack", "azure-prod", "--outputs-file", str(outputs_file), "--endpoint-url", arm.url,
                     *extra], AzureDr(transport), lambda: NOW)
    out, err = capsys.readouterr()
    return code, out, err, transport


def status_json(capsys, arm, outputs_file):
    code, out, _, transport = run(capsys, arm, outputs_file, "status", "--json")
    return code, {check["area"]: check for check in json.loads(out)["checks"]}, json.loads(out), transport


def test_healthy_stack_reports_every_store_ok(capsys, arm, outputs_file):
    code, out, _, _ = run(capsys, arm, outputs_file, "status")
    assert code == 0
    assert out.splitlines()[0] == "DR status for stack azure-prod: westeurope -> northeurope (RPO 15 min, RTO 60 min)"
    assert f"OK      database      replica {REPLICA} in northeurope: lag 12 s (RPO 900 s)" in out
    for area in ("artifacts", "features", "online-store", "images"):
        assert f"OK      {area}" in out
    assert out.rstrip().endswith("overall: HEALTHY")
    # the lag came from Azure Monitor's metric of the replica, asked for the last 10 minutes
    metrics = [path for method, path, _ in arm.requests if path.endswith("/providers/Microsoft.Insights/metrics")]
    assert metrics and metrics[0].endswith(f"/flexibleServers/{REPLICA}/providers/Microsoft.Insights/metrics")


def test_lag_beyond_half_the_rpo_is_at_risk_and_beyond_it_fails(capsys, arm, outputs_file):
    arm.state.lag[REPLICA] = 600.0
    code, checks, report, _ = status_json(capsys, arm, outputs_file)
    assert code == 0 and checks["database"]["status"] == "AT RISK" and report["overall"] == "DEGRADED"
    arm.state.lag[REPLICA] = 1200.0
    code, checks, report, _ = status_json(capsys, arm, outputs_file)
    assert code == 1 and checks["database"]["status"] == "FAIL" and "exceeds the RPO of 900 s" in checks["database"]["detail"]
    assert report["overall"] == "UNHEALTHY"


def test_missing_replica_and_broken_links_fail_without_hiding_the_rest(capsys, arm, outputs_file):
    del arm.state.servers[REPLICA]
    arm.state.policies["mlopsazureprodfeat194916"] = []
    arm.state.redis_link = "LinkFailed"
    code, checks, _, _ = status_json(capsys, arm, outputs_file)
    assert code == 1
    assert checks["database"]["detail"] == f"replica {REPLICA} not found in northeurope"
    assert checks["features"]["status"] == "FAIL" and "no object replication policy" in checks["features"]["detail"]
    assert checks["online-store"]["status"] == "FAIL" and "LinkFailed" in checks["online-store"]["detail"]
    assert checks["artifacts"]["status"] == "OK" and checks["images"]["status"] == "OK"


def test_throttled_requests_are_retried_after_the_time_azure_asks(capsys, arm, outputs_file):
    arm.state.throttle["/providers/Microsoft.Insights/metrics"] = 2
    code, checks, _, transport = status_json(capsys, arm, outputs_file)
    assert code == 0 and checks["database"]["status"] == "OK"
    assert transport.slept[:2] == [7, 7]  # Retry-After honoured, through the injected transport (no real sleep)


def test_dry_run_prints_the_plan_and_changes_nothing(capsys, arm, outputs_file):
    code, out, _, _ = run(capsys, arm, outputs_file, "failover", "--dry-run")
    assert code == 0
    assert "plan for stack azure-prod (dry run, nothing changed):" in out
    assert f"1. promote {REPLICA} to primary server (switchover, Forced)" in out and "[asks first]" in out
    assert not arm.calls("PATCH") and arm.state.writer == [PRIMARY]


def test_failover_promotes_the_replica_and_the_writer_endpoint_follows(capsys, arm, outputs_file):
    code, out, err, transport = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 0, err
    [(_, path, body)] = arm.calls("PATCH")
    assert path.endswith(f"/flexibleServers/{REPLICA}")
    assert body == {"properties": {"replica": {"role": "Primary", "promoteMode": "Switchover", "promoteOption": "Forced"}}}
    assert arm.state.writer == [REPLICA] and arm.state.servers[REPLICA].role == "Primary"
    assert transport.slept == [10, 10]  # the operation's Retry-After while InProgress, never a real sleep
    assert "failover complete for stack azure-prod" in out and f"{WRITER}.writer.postgres.database.azure.com" in out
    assert "measured RPO (replica lag at promotion): 12 s; target 900 s" in out and "RTO target 3600 s: met" in out
    # the second run finds the work done and changes nothing (idempotent)
    code, out, _, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 0 and out.startswith("nothing to do") and len(arm.calls("PATCH")) == 1
    # status now says the DR server serves alone: nothing protects it until the failback
    code, checks, _, _ = status_json(capsys, arm, outputs_file)
    assert code == 1 and "serves the writer endpoint (failed over)" in checks["database"]["detail"]


def test_failover_refuses_a_lag_beyond_the_rpo_unless_data_loss_is_accepted(capsys, arm, outputs_file):
    arm.state.lag[REPLICA] = 1200.0
    code, _, err, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 1 and "lags 1200 s, beyond the RPO of 900 s" in err and not arm.calls("PATCH")
    code, out, _, _ = run(capsys, arm, outputs_file, "failover", "--yes", "--accept-data-loss")
    assert code == 0 and "measured RPO (replica lag at promotion): 1200 s" in out


def test_failover_without_a_replica_stops_with_one_line(capsys, arm, outputs_file):
    del arm.state.servers[REPLICA]
    code, out, err, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 1 and f"error: replica {REPLICA} not found in northeurope: nothing to promote" in err
    assert "Traceback" not in err


def test_promotion_failing_half_way_is_reported_and_a_rerun_finishes_it(capsys, arm, outputs_file):
    arm.state.promotion_fails = 1
    code, _, err, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 1 and "An unexpected error occurred while promoting the replica" in err and "Traceback" not in err
    assert arm.state.writer == [PRIMARY]
    code, out, err, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 0, err
    assert len(arm.calls("PATCH")) == 2 and arm.state.writer == [REPLICA]


def test_rerun_after_a_crash_waits_for_the_promotion_under_way_instead_of_promoting_again(capsys, arm, outputs_file):
    # a crashed run had asked for the promotion: Azure is still carrying it out
    arm.state.servers[REPLICA].state = arm.state.servers[REPLICA].replication_state = "Updating"
    polls = iter([False, False, True])
    original = arm.state.server_json

    def progressing(name):
        if name == REPLICA and arm.state.servers[REPLICA].state == "Updating" and next(polls):
            arm.state.switchover(REPLICA)
        return original(name)

    arm.state.server_json = progressing
    code, out, err, _ = run(capsys, arm, outputs_file, "failover", "--yes")
    assert code == 0, err
    assert not arm.calls("PATCH") and arm.state.writer == [REPLICA]
    assert "already under way" in err


def test_failback_refuses_while_the_old_primary_is_behind_then_switches_back(capsys, arm, outputs_file):
    run(capsys, arm, outputs_file, "failover", "--yes")
    assert arm.state.servers[PRIMARY].role == "GeoAsyncReplica"
    arm.state.lag[PRIMARY] = 300.0
    code, _, err, _ = run(capsys, arm, outputs_file, "failback", "--yes")
    assert code == 1 and "still behind (lag 300 s" in err and len(arm.calls("PATCH")) == 1
    arm.state.lag[PRIMARY] = 3.0
    code, out, err, _ = run(capsys, arm, outputs_file, "failback", "--yes")
    assert code == 0, err
    (_, path, body) = arm.calls("PATCH")[-1]
    assert path.endswith(f"/flexibleServers/{PRIMARY}") and body["properties"]["replica"]["promoteOption"] == "Planned"
    assert arm.state.writer == [PRIMARY] and arm.state.servers[REPLICA].role == "GeoAsyncReplica"
    code, out, _, _ = run(capsys, arm, outputs_file, "failback", "--yes")
    assert code == 0 and out.startswith("nothing to fail back")
    code, checks, _, _ = status_json(capsys, arm, outputs_file)
    assert code == 0 and checks["database"]["status"] == "OK"


def test_failback_refuses_when_the_old_primary_is_not_a_replica(capsys, arm, outputs_file):
    arm.state.switchover(REPLICA)
    arm.state.servers[PRIMARY].role, arm.state.servers[PRIMARY].source = "None", None  # diverged, standalone
    code, _, err, _ = run(capsys, arm, outputs_file, "failback", "--yes")
    assert code == 1 and "not a replica of" in err and not arm.calls("PATCH")


@pytest.mark.parametrize("change, message", [
    (lambda o: o.update(cloud="gcp"), "this is the azure DR runbook; this stack's cloud is 'gcp'"),
    (lambda o: o["dr"].update(dbReplicaArn="server-1"), "output 'dbReplicaArn' should be a flexible server resource id"),
    (lambda o: o["trackingDbEndpointRecord"].update(name="db.example.com"), "is not a writer virtual endpoint"),
])
def test_bad_outputs_name_the_key(capsys, arm, tmp_path, change, message):
    from arm_fake import prod_outputs

    outputs = prod_outputs()
    change(outputs)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(outputs))
    code, _, err, _ = run(capsys, arm, path, "status")
    assert code == 2 and message in err and "Traceback" not in err
