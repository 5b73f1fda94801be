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


@pytest.fixture(scope="session", params=STACKS)
def stack(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def plan_for():
    """Each stack's plan rendered once per session, also for tests that pick their stacks by cloud."""
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = load_plan(name)
        return cache[name]
    return get


@pytest.fixture(scope="session")
def plan(stack, plan_for):
    return plan_for(stack)


@pytest.fixture(scope="session")
def mlflow_run(plan):
    with Processes(LOGS / plan.stack / "mlflow") as procs:
        yield start_mlflow(procs, plan)


@pytest.fixture(scope="session")
def scrape_targets(plan, mlflow_run):
    """{ServiceMonitor name: LocalTarget} for every workload this smoke run starts. Feast's smoke run
    joins here: add its Deployment and local metrics port under the ServiceMonitor's name ("feast")."""
    from mlops_tools.smoke.monitoring import LocalTarget

    return {"mlflow": LocalTarget("mlflow", mlflow_run.port, mlflow_run.secrets)}


@pytest.fixture(scope="session")
def prometheus(plan, scrape_targets, mlflow_run):
    """A real Prometheus scraping the run's workloads with the rendered ServiceMonitor settings and
    loading every rendered rule set."""
    from mlops_tools.smoke import monitoring
    from mlops_tools.smoke.services import start_prometheus

    monitors = {m["name"]: m for m in monitoring.service_monitors(plan)}
    jobs, files = [], {}
    for name, target in scrape_targets.items():
        job, extra = monitoring.scrape_config(plan, monitors[name], target)
        jobs.append(job)
        files.update(extra)
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": jobs}
    with Processes(LOGS / plan.stack / "prometheus") as procs:
        yield start_prometheus(procs, config, monitoring.rule_groups(plan), files), {job["job_name"] for job in jobs}
