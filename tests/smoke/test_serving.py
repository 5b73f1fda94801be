"""Issue 11, serving with canary: the real MLServer (mlserver + mlserver-mlflow, the pinned set the runtime image
installs) started as the stack's rendered ServingRuntime runs it, serving versions registered in the stack's
real MLflow and fetched from the object-store emulator at the URI ``python -m pipelines target`` computes;
the real Prometheus scraping MLServer with the rendered PodMonitor's relabelings; and ``python -m pipelines
canary`` promoting a healthy canary and rolling back a broken one from those metrics (MLflow alias and tags
included)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.monitoring import query
from mlops_tools.smoke.pipeline_steps import step_runner
from mlops_tools.smoke.plan import REPO
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.serving import infer, mlserver_process, render_serving_plan, scrape_job
from mlops_tools.smoke.services import start_prometheus

SERVICE = "churn"
MODEL = "churn-serving"


@pytest.fixture(scope="session")
def served(mlflow_run, plan, tmp_path_factory, report):
    """Three versions of one model in MLflow, each behind its own MLServer, all scraped by one Prometheus."""
    work = tmp_path_factory.mktemp("serving")
    step = step_runner(mlflow_run, work, extra_env=dict(mlflow_run.store.env))
    run = step.client

    versions = []
    for seed in (11, 12):
        data = step.table("clean", seed)
        trained = step("train", "--features", data, "--label", "churned", "--entity", "customer_id",
                       "--experiment", f"{MODEL}-training")
        versions.append(step("register", "--run-id", trained["run_id"], "--model-name", MODEL)["version"])
    versions.append(run("serving_client.py", "log-failing", MODEL))
    stable, healthy, broken = versions
    targets = {v: step("target", "--model-name", MODEL, "--version", v,
                       "--artifacts-destination", mlflow_run.artifacts_destination)["storage_uri"] for v in versions}
    rendered = render_serving_plan(plan.stack, {
        "enabled": True, "runtimeImage": "registry.example.com/mlserver:1.7.1-mlflow3.10.1",
        "storageUri": targets[stable], "modelVersion": stable, "serviceName": SERVICE, "modelName": MODEL},
        work / "plan")
    bin_dir = venv("mlserver")
    with Processes(REPO / "build" / "smoke" / "logs" / plan.stack / "serving") as procs:
        servers, scrape = {}, []
        for version in versions:
            # The files under the URI, as KServe's storage initializer lays them out in /mnt/models.
            model_dir = Path(run("serving_client.py", "download", targets[version],
                                 str(work / f"model-{version}")))
            assert (model_dir / "MLmodel").is_file(), sorted(p.name for p in model_dir.iterdir())
            _, http, metrics = mlserver_process(procs, rendered, bin_dir, model_dir, SERVICE, f"v{version}")
            servers[version] = http
            scrape.append((metrics, {"mlops.dev/model-version": version, "serving.kserve.io/inferenceservice": SERVICE}))
        prometheus = start_prometheus(procs, {"global": {"scrape_interval": "2s"},
                                              "scrape_configs": [scrape_job(rendered, SERVICE, scrape)]})
        report(f"serving: MLServer up for versions {versions} (model files from {targets[stable]}), "
               f"Prometheus scraping the rendered PodMonitor")
        yield {"step": step, "run": run, "servers": servers, "prometheus": prometheus.url, "versions": versions,
               "targets": targets, "work": work}


def _rows(n: int, seed: int) -> dict[str, list]:
    import random

    rng = random.Random(seed)
    return {"age": [round(rng.gauss(40, 10), 2) for _ in range(n)],
            "spend": [round(rng.gammavariate(2.0, 50.0), 2) for _ in range(n)],
            "visits": [rng.randint(0, 10) for _ in range(n)]}


def _traffic(port: int, count: int) -> list[int]:
    return [infer(port, SERVICE, _rows(3, i))[0] for i in range(count)]


def _wait_for(served, counts: dict[str, int], timeout: float = 90) -> None:
    """Until Prometheus has scraped at least ``counts[version]`` inference requests of each version."""
    deadline, seen = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        seen = {s["metric"]["model_version"]: float(s["value"][1]) for s in query(
            served["prometheus"], 'sum by (model_version) (rest_server_requests_total{path=~".*/infer"})')}
        if all(seen.get(v, 0) >= n for v, n in counts.items()):
            return
        time.sleep(2)
    raise AssertionError(f"Prometheus saw {seen} inference requests, expected at least {counts}")


def _canary(served, version: str, *extra: str) -> dict:
    return served["step"]("canary", "--model-name", MODEL, "--version", version, "--service", SERVICE,
                          "--prometheus", served["prometheus"], "--min-requests", "20", "--window", "2m",
                          "--analysis-seconds", "12", "--interval", "3", *extra)


def test_mlserver_answers_a_v2_request_with_the_models_prediction(served, report):
    stable = served["versions"][0]
    assert served["targets"][stable].startswith(("s3://", "gs://", "https://"))
    status, body = infer(served["servers"][stable], SERVICE, {"age": [70.0, 20.0], "spend": [400.0, 10.0], "visits": [12, 0]})
    assert status == 200, body
    (output,) = body["outputs"]
    # The training data's label rises with age, spend and visits: an old big spender churns, a young idle one not.
    assert output["data"] == [1, 0], body
    assert body["model_name"] == SERVICE
    report(f"serving: V2 inference on version {stable}: {output['data']} for (70, 400, 12) and (20, 10, 0)")


def test_canary_promotes_a_healthy_version_and_rolls_back_a_broken_one(served, report):
    stable, healthy, broken = served["versions"]
    # A counter series appears with its first request and increase() counts growth between samples, so one
    # request each first, scraped, then the traffic the analysis judges (as a live canary sees steady traffic).
    for version in served["versions"]:
        _traffic(served["servers"][version], 1)
    _wait_for(served, {v: 1 for v in served["versions"]})
    assert set(_traffic(served["servers"][stable], 30)) == {200}
    assert set(_traffic(served["servers"][healthy], 30)) == {200}
    assert set(_traffic(served["servers"][broken], 30)) == {500}
    _wait_for(served, {v: 31 for v in served["versions"]})

    promoted = _canary(served, healthy)
    assert promoted["decision"] == "promote" and promoted["traffic_percent"] == 100, promoted
    assert promoted["requests"] >= 20 and promoted["error_ratio"] == 0.0

    served["run"]("serving_client.py", "make-production", MODEL, broken, healthy)
    rolled = _canary(served, broken)
    assert rolled["decision"] == "rollback" and rolled["traffic_percent"] == 0, rolled
    assert rolled["error_ratio"] == 1.0 and "error ratio" in rolled["reasons"][0]
    assert rolled["production_version"] == healthy  # the alias moved back to the version before the canary

    slow = _canary(served, healthy, "--max-p95-seconds", "0.000001")
    assert slow["decision"] == "rollback" and "p95 latency" in " ".join(slow["reasons"]), slow
    report(f"canary: v{healthy} promoted ({promoted['requests']:.0f} requests, p95 {promoted['p95_seconds']:.3f}s); "
           f"v{broken} rolled back (error ratio {rolled['error_ratio']:.2f}), production back to v{healthy}; "
           f"a p95 objective of 1 microsecond rolls v{healthy} back")
