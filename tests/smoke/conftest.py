"""Smoke fixtures: the stacks to run (``SMOKE_STACKS``, set by ``make smoke STACK=...``), each stack's
plan rendered once, and one running MLflow per stack shared by that stack's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_tools.smoke.mlflow import start_mlflow
from mlops_tools.smoke.plan import REPO, load_plan
from mlops_tools.smoke.procs import Processes

STACKS = os.environ.get("SMOKE_STACKS", "dev azure-dev gcp-dev").split()
LOGS = REPO / "build" / "smoke" / "logs"


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def plan(stack):
    return load_plan(stack)


@pytest.fixture(scope="module")
def mlflow_run(plan):
    with Processes(LOGS / plan.stack / "mlflow") as procs:
        yield start_mlflow(procs, plan)
