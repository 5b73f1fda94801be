"""MLflow with exactly the rendered Deployment (init containers included) against PostgreSQL with
TLS and a URL-hostile password, artifacts on the cloud's emulator, basic-auth on."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from mlops_tools.smoke.mlflow import CLIENTS


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_anonymous_request_is_refused(mlflow_run):
    assert _status(f"{mlflow_run.url}/api/2.0/mlflow/experiments/search?max_results=1") == 401
    assert _status(f"{mlflow_run.url}/metrics") == 401


def test_client_logs_registers_and_loads_back(mlflow_run):
    env = mlflow_run.client_env(mlflow_run.secrets["mlflow-admin/username"], mlflow_run.secrets["mlflow-admin/password"])
    result = subprocess.run([str(mlflow_run.bin_dir / "python"), str(CLIENTS / "mlflow_client.py"), "smoke-model"],
                            env=env, capture_output=True, text=True, timeout=600)  # minutes on a loaded machine
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["metric"] == 0.25
    assert seen["artifact"] == "smoke artifact\n"
    assert seen["prediction"] == [2, 4]
    assert seen["model_version"] == "1"
    # Proxied artifacts: the client saw mlflow-artifacts:/, the object landed under the rendered destination.
    assert seen["artifact_uri"].startswith("mlflow-artifacts:/")
    objects = mlflow_run.objects()
    assert any(name.endswith(f"{seen['run_id']}/artifacts/notes.txt") for name in objects), objects


def test_two_pods_starting_at_once_migrate_a_fresh_database_without_a_race(plan):
    """Issue 9 item 18: the rendered init containers of two replicas, run at the same moment against
    an empty database, both succeed (the advisory lock serialises them; the second finds the schema
    at head and the users present)."""
    from mlops_tools.smoke.envs import venv
    from mlops_tools.smoke.mlflow import server_secret_values, start_tracking_database
    from mlops_tools.smoke.pods import local_pod

    from conftest import LOGS
    from mlops_tools.smoke.procs import Processes

    with Processes(LOGS / plan.stack / "migrate-race") as procs:
        db = start_tracking_database(procs, plan)  # GCP: pgAudit loaded, both migrate steps create the extension
        values = server_secret_values(plan, db)
        pods = [local_pod(procs, plan.workload("mlflow", "mlops"), venv("mlflow"), values) for _ in range(2)]
        writer = pods[0].workload.container("auth-config")
        migrate = pods[0].workload.container("migrate")
        for index, pod in enumerate(pods):
            procs.run(f"replica{index}-auth-config", pod.argv(writer), pod.env(writer))
        running = [procs.start(f"replica{index}-migrate", pod.argv(migrate), pod.env(migrate))
                   for index, pod in enumerate(pods)]
        codes = [proc.popen.wait(timeout=240) for proc in running]
        logs = [proc.log.read_text() for proc in running]
    assert codes == [0, 0], logs
    assert all("tracking and auth schemas at head" in log for log in logs)
