"""DR runbook against moto in-process: status, failover, failback and their failure paths."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from moto import mock_aws

from mlops_tools.ops.aws import dr

from aws_fixtures import (
    DR_REGION,
    PRIMARY_DB,
    REGION,
    REPLICA_DB,
    instance,
    local_clients,
    patch_moto_to_match_aws,
    prod_outputs,
    put_replica_lag,
    record_value,
    seed_prod_stack,
)


clients = local_clients


@pytest.fixture
def aws(monkeypatch):
    patch_moto_to_match_aws(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def outputs_file(aws, tmp_path):
    def write(**seed_options) -> tuple[Path, dict]:
        outputs = seed_prod_stack(clients, **seed_options)
        path = tmp_path / "prod-outputs.json"
        path.write_text(json.dumps(outputs))
        return path, outputs
    return write


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = dr.main(list(argv) + ["--poll-seconds", "0"] if argv[0] != "status" else list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def db_state(region: str, identifier: str) -> tuple:
    found = instance(clients, region, identifier)
    return (found["DBInstanceStatus"], found.get("ReadReplicaSourceDBInstanceIdentifier"),
            found["Endpoint"]["Address"], sorted((t["Key"], t["Value"]) for t in found.get("TagList", [])))


def error_lines(err: str) -> list[str]:
    """The error lines (a fake terminal does not echo the typed answer's newline, so one may follow the prompt)."""
    return ["error:" + line.split("error:", 1)[1] for line in err.splitlines() if "error:" in line]


# ------------------------------------------------------------------ status


def test_status_reports_every_replica_healthy(outputs_file, capsys):
    path, _ = outputs_file()
    code, out, err = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path))
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "DR status for stack prod: us-east-1 -> us-west-2 (RPO 15 min, RTO 60 min)"
    assert any(l.split()[:2] == ["OK", "database"] and "lag 12 s (RPO 900 s)" in l for l in lines)
    assert sum(l.split()[:2] == ["OK", "artifacts"] and "latency 40 s" in l for l in lines) == 1
    assert sum(l.split()[:2] == ["OK", "features"] for l in lines) == 1
    assert any(l.split()[:2] == ["OK", "online-store"] and "ACTIVE" in l for l in lines)
    assert sum(l.split()[:2] == ["OK", "images"] for l in lines) == 2
    assert lines[-1] == "overall: HEALTHY"


def test_status_json_flags_lag_beyond_rpo(outputs_file, capsys):
    path, _ = outputs_file(lag_seconds=1200)
    code, out, _ = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path), "--json")
    report = json.loads(out)
    assert code == 1
    assert report["overall"] == "UNHEALTHY"
    (database,) = [c for c in report["checks"] if c["area"] == "database"]
    assert database == {"area": "database", "status": "FAIL",
                        "detail": "replica lag 1200 s exceeds the RPO of 900 s"}


def test_status_finds_broken_replication_everywhere(outputs_file, capsys):
    path, outputs = outputs_file()
    clients("s3", REGION).delete_bucket_replication(Bucket=outputs["artifactBucket"])
    clients("s3", DR_REGION).put_bucket_versioning(Bucket=outputs["dr"]["featureReplicaBucket"],
                                                   VersioningConfiguration={"Status": "Suspended"})
    clients("ecr", REGION).put_replication_configuration(replicationConfiguration={"rules": []})
    code, out, _ = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path), "--json")
    checks = {(c["area"], c["status"], c["detail"]) for c in json.loads(out)["checks"]}
    assert code == 1
    assert ("artifacts", "FAIL", "bucket mlops-prod-artifacts has no replication configuration") in checks
    assert ("features", "FAIL", "versioning is off on mlops-prod-features-replica: replication cannot run") in checks
    assert ("images", "FAIL", "no registry replication rule copies mlops-prod/models to us-west-2") in checks


def test_status_flags_an_image_missing_from_the_dr_region(outputs_file, capsys):
    path, outputs = outputs_file()
    clients("ecr", DR_REGION).batch_delete_image(repositoryName="mlops-prod/models", imageIds=[{"imageTag": "v1"}])
    code, out, _ = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path), "--json")
    (images,) = [c for c in json.loads(out)["checks"] if c["area"] == "images" and "models" in c["detail"]]
    assert images["status"] == "AT RISK" and "not yet in us-west-2" in images["detail"]  # pushed seconds ago
    assert code == 0


def test_status_without_a_replica(outputs_file, capsys):
    path, _ = outputs_file(replica=False, lag_seconds=None)
    code, out, _ = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path))
    assert code == 1
    assert "FAIL    database      replica mlops-prod-tracking-replica not found in us-west-2" in out


# ------------------------------------------------------------------ failover


def test_failover_promotes_repoints_and_reports_rpo_rto(outputs_file, capsys):
    path, outputs = outputs_file()
    replica_address = instance(clients, DR_REGION, REPLICA_DB)["Endpoint"]["Address"]
    code, out, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 0, err
    promoted = instance(clients, DR_REGION, REPLICA_DB)
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    assert record_value(clients, outputs) == replica_address
    assert "measured RPO (replica lag at promotion): 12 s; target 900 s" in out
    assert "RTO target 3600 s: met" in out
    tags = {t["Key"]: t["Value"] for t in promoted["TagList"]}
    assert tags[dr.TAG_LAG_AT_PROMOTION] == "12"
    assert "changed: promotion of mlops-prod-tracking-replica requested" in err
    assert "verified:" in err


def test_dry_runs_print_the_plan_and_change_nothing(outputs_file, capsys):
    path, outputs = outputs_file()
    args = ("--stack", "prod", "--outputs-file", str(path))
    before = (record_value(clients, outputs), db_state(DR_REGION, REPLICA_DB), db_state(REGION, PRIMARY_DB))
    code, out, err = run(capsys, "failover", *args, "--dry-run")
    assert code == 0, err
    assert out.splitlines()[:3] == [
        "plan for stack prod (dry run, nothing changed):",
        f"  1. promote RDS replica {REPLICA_DB} in {DR_REGION} (tagged with the lag first)  [asks first]",
        f"  2. repoint {outputs['trackingDbEndpointRecord']['name']}. at "
        f"{instance(clients, DR_REGION, REPLICA_DB)['Endpoint']['Address']} and wait until Route 53 is INSYNC"]
    assert "changed:" not in err
    assert (record_value(clients, outputs), db_state(DR_REGION, REPLICA_DB), db_state(REGION, PRIMARY_DB)) == before
    assert run(capsys, "failover", *args, "--yes")[0] == 0
    before = (db_state(DR_REGION, REPLICA_DB), db_state(REGION, PRIMARY_DB))
    code, out, err = run(capsys, "failback", *args, "--dry-run")
    assert code == 0 and "changed:" not in err
    assert f"1. rename {PRIMARY_DB} in {REGION} to {PRIMARY_DB}-retired (it keeps its data)  [asks first]" in out
    assert f"2. create {PRIMARY_DB} in {REGION} as a replica of {REPLICA_DB}  [asks first]" in out
    assert (db_state(DR_REGION, REPLICA_DB), db_state(REGION, PRIMARY_DB)) == before


def test_failover_twice_changes_nothing_and_says_so(outputs_file, capsys):
    path, outputs = outputs_file()
    assert run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")[0] == 0
    before = (record_value(clients, outputs), db_state(DR_REGION, REPLICA_DB))
    code, out, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 0
    assert out.startswith("nothing to do: mlops-prod-tracking-replica in us-west-2 is already promoted")
    assert "lag at promotion 12 s" in out
    assert "changed:" not in err
    assert (record_value(clients, outputs), db_state(DR_REGION, REPLICA_DB)) == before


def test_interrupted_failover_only_repoints(outputs_file, capsys):
    path, outputs = outputs_file()
    clients("rds", DR_REGION).promote_read_replica(DBInstanceIdentifier=REPLICA_DB)
    code, out, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 0, err
    assert "already promoted; the record still has to be repointed" in err
    assert "promotion of" not in err
    assert record_value(clients, outputs) == instance(clients, DR_REGION, REPLICA_DB)["Endpoint"]["Address"]


@pytest.mark.parametrize("lag, message", [
    (1200, "error: replica mlops-prod-tracking-replica lags 1200 s, beyond the RPO of 900 s; "
           "re-run with --accept-data-loss to promote anyway"),
    (None, "error: no ReplicaLag datapoint for mlops-prod-tracking-replica in the last 10 minutes: "
           "data loss cannot be bounded; re-run with --accept-data-loss to promote anyway"),
])
def test_failover_refuses_a_replica_beyond_rpo(outputs_file, capsys, lag, message):
    path, outputs = outputs_file(lag_seconds=lag)
    primary_address = record_value(clients, outputs)
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 1
    assert error_lines(err) == [message]
    assert instance(clients, DR_REGION, REPLICA_DB)["ReadReplicaSourceDBInstanceIdentifier"].endswith(PRIMARY_DB)
    assert record_value(clients, outputs) == primary_address


def test_failover_with_accept_data_loss_proceeds_and_reports_the_lag(outputs_file, capsys):
    path, _ = outputs_file(lag_seconds=1200)
    code, out, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes",
                         "--accept-data-loss")
    assert code == 0, err
    assert "measured RPO (replica lag at promotion): 1200 s; target 900 s" in out
    assert "proceeding despite" in err


def test_failover_without_replica_stops(outputs_file, capsys):
    path, _ = outputs_file(replica=False)
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 1
    assert error_lines(err) == ["error: replica mlops-prod-tracking-replica not found in us-west-2: nothing to promote"]


def test_failover_refuses_a_replica_of_another_primary(outputs_file, capsys, tmp_path):
    path, outputs = outputs_file()
    outputs["trackingDbInstanceId"] = "some-other-db"
    path.write_text(json.dumps(outputs))
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 1
    assert "refusing to promote the wrong replica" in error_lines(err)[0]


def test_failover_asks_for_confirmation(outputs_file, capsys, monkeypatch):
    path, outputs = outputs_file()

    class Terminal:
        def __init__(self, answer): self.answer = answer
        def isatty(self): return True
        def readline(self): return self.answer

    monkeypatch.setattr("sys.stdin", Terminal("staging\n"))
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path))
    assert code == 1 and "not confirmed" in error_lines(err)[0]
    assert "ReadReplicaSourceDBInstanceIdentifier" in instance(clients, DR_REGION, REPLICA_DB)

    monkeypatch.setattr("sys.stdin", Terminal("prod\n"))
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path))
    assert code == 0, err
    assert "Type the stack name 'prod' to continue" in err


def test_failover_without_terminal_needs_yes(outputs_file, capsys, monkeypatch):
    path, _ = outputs_file()
    monkeypatch.setattr("sys.stdin", open(os.devnull))
    code, _, err = run(capsys, "failover", "--stack", "prod", "--outputs-file", str(path))
    assert code == 1
    assert error_lines(err)[0].startswith("error: refusing to promote mlops-prod-tracking-replica")
    assert "--yes" in error_lines(err)[0]


def test_wait_gives_up_with_a_clear_message():
    ticks = iter(range(100))
    wait = dr.Wait(poll_seconds=1, timeout_seconds=3, sleep=lambda _: None, clock=lambda: next(ticks))
    with pytest.raises(dr.OpsError, match="still promoting"):
        wait.until("promotion", lambda: False, "still promoting")


# ------------------------------------------------------------------ failback


def test_failback_walks_back_to_the_original_topology(outputs_file, capsys):
    path, outputs = outputs_file()
    original_address = record_value(clients, outputs)
    args = ("--stack", "prod", "--outputs-file", str(path), "--yes")
    assert run(capsys, "failover", *args)[0] == 0

    # run 1: the diverged primary is kept aside and a replica of the DR instance takes its name
    code, out, err = run(capsys, "failback", *args)
    assert code == 0, err
    retired = instance(clients, REGION, PRIMARY_DB + "-retired")
    assert retired is not None and "ReadReplicaSourceDBInstanceIdentifier" not in retired
    new_primary = instance(clients, REGION, PRIMARY_DB)
    assert new_primary["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":{DR_REGION}:123456789012:db:{REPLICA_DB}")
    assert new_primary["MultiAZ"] is True, "settings copied from the old primary"
    assert "Re-run `make dr-failback STACK=prod` once it is available and caught up" in out

    # run 2 while the new replica lags: nothing switches
    put_replica_lag(clients, REGION, PRIMARY_DB, 300, minutes_ago=3)
    code, out, _ = run(capsys, "failback", *args)
    assert code == 0 and "is catching up (ReplicaLag 300 s" in out
    assert record_value(clients, outputs) != original_address

    # run 3, caught up: switch back, then re-create the DR replica under the stack's identifier
    put_replica_lag(clients, REGION, PRIMARY_DB, 0)
    code, out, err = run(capsys, "failback", *args)
    assert code == 0, err
    assert record_value(clients, outputs) == original_address
    assert "ReadReplicaSourceDBInstanceIdentifier" not in instance(clients, REGION, PRIMARY_DB)
    dr_replica = instance(clients, DR_REGION, REPLICA_DB)
    assert dr_replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":{REGION}:123456789012:db:{PRIMARY_DB}")
    assert instance(clients, DR_REGION, REPLICA_DB + "-retired") is not None
    assert "stop writes to the tracking server" in err
    assert "pulumi refresh --stack prod" in out

    # run 4: done; only the documented manual clean-up remains
    code, out, err = run(capsys, "failback", *args)
    assert code == 0
    assert out.startswith("nothing to fail back")
    assert "mlops-prod-tracking-retired in us-east-1; mlops-prod-tracking-replica-retired in us-west-2" in out
    assert "changed:" not in err


def test_failback_without_failover_changes_nothing(outputs_file, capsys):
    path, _ = outputs_file()
    code, out, err = run(capsys, "failback", "--stack", "prod", "--outputs-file", str(path), "--yes")
    assert code == 0 and out.startswith("nothing to fail back")
    assert "changed:" not in err


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("mutate, message", [
    (lambda o: o.pop("trackingDbEndpointRecord"), "missing output 'trackingDbEndpointRecord'"),
    (lambda o: o["dr"].update(enabled=False), "DR is not enabled for stack prod"),
    (lambda o: o["dr"].update(dbReplicaArn=o["dr"]["dbReplicaArn"].replace(DR_REGION, "eu-west-1")),
     "is not in the DR region us-west-2 (wrong region)"),
    (lambda o: o["dr"].update(region=REGION), "the DR region us-east-1 is the primary region"),
    (lambda o: o["dr"].update(rpoMinutes="15"), "output 'rpoMinutes' should be a int"),
    (lambda o: o.update(cloud="azure"), "this stack's cloud is 'azure'"),
    (lambda o: o.update(featureOfflineStorePath="/tmp/offline"), "should be an s3:// path"),
])
def test_bad_outputs_are_one_line_and_exit_2(tmp_path, capsys, mutate, message):
    outputs = prod_outputs()
    mutate(outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    code, _, err = run(capsys, "status", "--stack", "prod", "--outputs-file", str(path))
    assert code == 2
    assert len(error_lines(err)) == 1 and message in error_lines(err)[0]
    assert "Traceback" not in err


def test_unreadable_and_invalid_outputs_files(tmp_path, capsys):
    code, _, err = run(capsys, "status", "--stack", "prod", "--outputs-file", str(tmp_path / "absent.json"))
    assert code == 2 and error_lines(err)[0].startswith(f"error: cannot read outputs file {tmp_path}/absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"cloud": "aws",\n  "region": }')
    code, _, err = run(capsys, "status", "--stack", "prod", "--outputs-file", str(broken))
    assert code == 2
    assert error_lines(err) == [f"error: outputs file {broken} is not valid JSON (line 2, column 13: Expecting value)"]


def test_outputs_come_from_the_pulumi_cli_when_no_file_is_given(outputs_file, capsys, tmp_path, monkeypatch):
    path, _ = outputs_file()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        f'[ "$*" = "stack output --json --stack prod" ] || {{ echo "unexpected args: $*" >&2; exit 1; }}\n'
        f"cat {path}\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    code, out, err = run(capsys, "status", "--stack", "prod")
    assert code == 0, err
    assert "pulumi stack output --json --stack prod" in err
    code, _, err = run(capsys, "status", "--stack", "staging")
    assert code == 2 and error_lines(err) == ["error: pulumi stack output --stack staging failed: unexpected args: "
                                              "stack output --json --stack staging"]


def test_missing_pulumi_cli_is_a_usage_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "status", "--stack", "prod")
    assert code == 2
    assert error_lines(err) == ["error: the pulumi CLI is not on PATH: install it, or pass --outputs-file with the stack outputs"]


def test_unknown_command_is_a_usage_error(capsys):
    assert dr.main(["promote", "--stack", "prod"]) == 2
    assert "invalid choice" in capsys.readouterr().err
