"""The smoke harness's own promises: services come up on 127.0.0.1 with TLS/credentials as stated,
and everything started is gone after the block, also when the block fails."""

from __future__ import annotations

import os
import subprocess

import boto3
import pytest

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.services import URL_HOSTILE, start_moto, start_postgres


def test_postgres_accepts_only_tls_with_the_url_hostile_password(tmp_path):
    psql = system_program("psql")
    with Processes(tmp_path) as procs:
        db = start_postgres(procs)
        assert any(ch in db.password for ch in URL_HOSTILE)
        base = ["-h", db.host, "-p", str(db.port), "-U", db.user, "-d", db.database, "-tAc", "SHOW ssl"]
        env = {"PATH": os.environ["PATH"], "PGPASSWORD": db.password}
        tls = subprocess.run([psql, *base], env={**env, "PGSSLMODE": "require"}, capture_output=True, text=True)
        assert tls.stdout.strip() == "on", tls.stderr
        plain = subprocess.run([psql, *base], env={**env, "PGSSLMODE": "disable"}, capture_output=True, text=True)
        assert plain.returncode != 0 and "no encryption" in plain.stderr
        pids = [proc.pid for proc in procs.procs]
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_processes_stop_on_failure(tmp_path):
    with pytest.raises(SmokeFailure):
        with Processes(tmp_path) as procs:
            endpoint = start_moto(procs)
            boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1",
                         aws_access_key_id="x", aws_secret_access_key="y").create_bucket(Bucket="smoke-harness")
            pid = procs.procs[0].pid
            raise SmokeFailure("boom")
    assert not os.path.exists(f"/proc/{pid}")
