"""End to end: the DR runbook against moto's server on 127.0.0.1, through the user's entry points.

The topology is created over HTTP exactly as the prod stack creates it, then `status` runs as
`python -m mlops_tools.ops.aws.dr` in a child process and `failover` through `main(argv)`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from mlops_tools.ops.aws import dr

from aws_fixtures import (
    DR_REGION,
    PRIMARY_DB,
    REPLICA_DB,
    instance,
    patch_moto_to_match_aws,
    record_value,
    seed_prod_stack,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def moto_endpoint():
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_moto_to_match_aws(monkeypatch)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def moto_server(moto_endpoint):
    """A clean emulator per test (the server keeps state between requests, like AWS)."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    return moto_endpoint


@pytest.fixture
def remote(moto_server):
    cache: dict = {}

    def clients(service: str, region: str):
        if (service, region) not in cache:
            cache[service, region] = boto3.client(service, region_name=region, endpoint_url=moto_server)
        return cache[service, region]

    return clients


def write_outputs(tmp_path: Path, outputs: dict) -> Path:
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(outputs, indent=2))
    return path


def test_status_then_failover_against_a_real_endpoint(moto_server, remote, tmp_path, capsys):
    outputs = seed_prod_stack(remote)
    path = write_outputs(tmp_path, outputs)
    assert moto_server.startswith("http://127.0.0.1:")

    status = subprocess.run(
        [sys.executable, "-m", "mlops_tools.ops.aws.dr", "status", "--stack", "prod", "--outputs-file", str(path),
         "--endpoint-url", moto_server],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.splitlines()[-1] == "overall: HEALTHY"
    assert "OK      database      replica mlops-prod-tracking-replica in us-west-2 available, lag 12 s" in status.stdout

    replica_address = instance(remote, DR_REGION, REPLICA_DB)["Endpoint"]["Address"]
    code = dr.main(["failover", "--stack", "prod", "--outputs-file", str(path), "--endpoint-url", moto_server,
                    "--yes", "--poll-seconds", "0"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ReadReplicaSourceDBInstanceIdentifier" not in instance(remote, DR_REGION, REPLICA_DB)
    assert record_value(remote, outputs) == replica_address
    assert "measured RPO (replica lag at promotion): 12 s; target 900 s" in out

    code = dr.main(["status", "--stack", "prod", "--outputs-file", str(path), "--endpoint-url", moto_server])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed over" in out and out.splitlines()[-1] == "overall: UNHEALTHY"


def test_failover_refuses_when_replica_is_missing(moto_server, remote, tmp_path, capsys):
    path = write_outputs(tmp_path, seed_prod_stack(remote, replica=False))
    code = dr.main(["failover", "--stack", "prod", "--outputs-file", str(path), "--endpoint-url", moto_server, "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1] == "error: replica mlops-prod-tracking-replica not found in us-west-2: nothing to promote"


def test_failover_refuses_lag_beyond_rpo(moto_server, remote, tmp_path, capsys):
    outputs = seed_prod_stack(remote, lag_seconds=3600)
    path = write_outputs(tmp_path, outputs)
    before = record_value(remote, outputs)
    code = dr.main(["failover", "--stack", "prod", "--outputs-file", str(path), "--endpoint-url", moto_server, "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert "lags 3600 s, beyond the RPO of 900 s" in err.splitlines()[-1]
    assert instance(remote, DR_REGION, REPLICA_DB)["ReadReplicaSourceDBInstanceIdentifier"].endswith(PRIMARY_DB)
    assert record_value(remote, outputs) == before


def test_bad_outputs_file_through_python_dash_m(tmp_path):
    path = tmp_path / "prod.json"
    path.write_text("not json")
    completed = subprocess.run(
        [sys.executable, "-m", "mlops_tools.ops.aws.dr", "failover", "--stack", "prod", "--outputs-file", str(path), "--yes"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1] == (
        f"error: outputs file {path} is not valid JSON (line 1, column 1: Expecting value)"
    )
    assert "Traceback" not in completed.stderr
