"""The pipeline steps as the workflow containers run them (``python -m pipelines``, the pinned MLflow venv),
against a smoke run's MLflow, plus the test data maker (``clients/pipeline_data.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional

from mlops_tools.smoke.mlflow import CLIENTS
from mlops_tools.smoke.plan import REPO


def step_runner(mlflow_run: Any, data: Path, credentials: Optional[tuple[str, str]] = None,
                extra_env: Optional[dict[str, str]] = None) -> Callable[..., Any]:
    """``step(*argv, expect=0)`` -> the step's JSON line (or its stderr when a non-zero exit is expected);
    ``step.table(kind, seed)`` -> path of a generated parquet table; ``step.data`` -> the work directory;
    ``step.client(script, *argv)`` -> the last output line of a client script (``clients/``) in the same venv.
    ``credentials``: the MLflow user the steps log in as (default the admin); ``extra_env``: e.g. an
    object-store emulator's settings (the steps then read and write it as in the cluster)."""
    user = credentials or (mlflow_run.secrets["mlflow-admin/username"], mlflow_run.secrets["mlflow-admin/password"])
    env = {**(extra_env or {}), **mlflow_run.client_env(*user), "PYTHONPATH": str(REPO)}
    python = str(mlflow_run.bin_dir / "python")

    def table(kind: str, seed: int) -> str:
        path = data / f"{kind}-{seed}.parquet"
        subprocess.run([python, str(CLIENTS / "pipeline_data.py"), kind, str(path), str(seed)], env=env,
                       check=True, timeout=120)
        return str(path)

    def step(*argv: str, expect: int = 0) -> Any:
        result = subprocess.run([python, "-m", "pipelines", *argv], env=env, capture_output=True, text=True,
                                timeout=300, cwd=data)
        assert result.returncode == expect, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1]) if expect == 0 else result.stderr

    def client(script: str, *argv: str) -> str:
        result = subprocess.run([python, str(CLIENTS / script), *argv], env=env, capture_output=True, text=True,
                                timeout=300, cwd=data)
        assert result.returncode == 0, result.stderr[-3000:]
        return (result.stdout.strip().splitlines() or [""])[-1]

    step.table, step.data, step.client, step.env = table, data, client, env  # type: ignore[attr-defined]
    return step
