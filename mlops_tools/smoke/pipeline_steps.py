"""The pipeline steps as the workflow containers run them (``python -m pipelines``, the pinned MLflow venv),
against a smoke run's MLflow, plus the test data maker (``clients/pipeline_data.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

from mlops_tools.smoke.mlflow import CLIENTS
from mlops_tools.smoke.plan import REPO


def step_runner(mlflow_run: Any, data: Path) -> Callable[..., Any]:
    """``step(*argv, expect=0)`` -> the step's JSON line (or its stderr when a non-zero exit is expected);
    ``step.table(kind, seed)`` -> path of a generated parquet table; ``step.data`` -> the work directory."""
    env = {**mlflow_run.client_env(mlflow_run.secrets["mlflow-admin/username"],
                                   mlflow_run.secrets["mlflow-admin/password"]), "PYTHONPATH": str(REPO)}
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

    step.table, step.data = table, data  # type: ignore[attr-defined]
    return step
