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
                            env=env, capture_output=True, text=True, timeout=180)
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
