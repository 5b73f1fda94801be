"""Issue 11, the whole retraining loop chained on the real software, with the stack's plan rendered with serving
on (its pipelines, drift job and request log as shipped):

features (AWS: the rendered ``features`` step through Feast on moto, as the steps' role; Azure/GCP: the
offline file the feature view reads, see below) -> ``train`` logged to the stack's real MLflow -> ``register``
-> ``evaluate`` -> ``promote`` -> the promoted version served by the real MLServer as the rendered
ServingRuntime runs it -> V2 requests with shifted inputs through KServe's logger (a stand-in of the Go agent,
mlops_tools/smoke/request_log.py) -> the real sink (the rendered ``request-log`` container) writes parquet
parts into the object-store emulator under the rendered ``recentPath`` -> the drift step (rendered CronWorkflow
arguments) reads that log and scores above its threshold -> the real Pushgateway -> the real Prometheus fires
``ModelDriftDetected`` -> the real Alertmanager's webhook arrives at the EventSource's rendered path -> the
rendered Sensor's filter passes and its trigger names the model.

Not chained here, and why: the Feast step on Azure/GCP (Azure's registry store needs its account's real host
name; GCP's Feast is proven by test_feast_gcp.py), so there ``train`` reads the offline file itself (the
pipeline's path without ``featureView``); KServe's Go agent (no Go toolchain; its events are rebuilt from
KServe v0.20.0's source); on Azure the drift step reads the sink's parts from a local copy (pyarrow's Azure
file system cannot be pointed at Azurite with a shared key); the Sensor creating the Workflow (needs a cluster).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from mlops_tools.smoke import drift as harness
from mlops_tools.smoke import monitoring
from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.pipeline_steps import step_runner
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.request_log import LoggingAgent, object_store, rendered_output, start_sink
from mlops_tools.smoke.serving import infer, mlserver_process, render_serving_plan

from conftest import LOGS

MODEL = "churn-loop"
SERVICE = "churn-loop"
ALERT = "ModelDriftDetected"


def _features(plan, step, data: Path) -> tuple[str, str]:
    """(training frame, how it was made): through Feast on AWS stacks, else the offline file itself."""
    if plan.data["outputs"]["featureRegistryPath"].startswith("s3://"):
        from mlops_tools.smoke.pipeline_features import run_features_step

        run = run_features_step(plan, data / "feast")
        assert run.result["rows"] == 400, run.result
        return str(run.frame), f"Feast feature view {run.view} ({run.result['rows']} rows, as the steps' role)"
    return step.table("clean", 31), "the offline file (Feast not chained on this cloud)"


def _shifted(rows: int, seed: int) -> dict[str, list]:
    """Inputs from a moved distribution (age +15, spend x2.5): what the drift job must catch."""
    rng = random.Random(seed)
    return {"age": [round(rng.gauss(55, 10), 2) for _ in range(rows)],
            "spend": [round(rng.gammavariate(2.0, 125.0), 2) for _ in range(rows)],
            "visits": [rng.randint(0, 10) for _ in range(rows)]}


def test_the_loop_from_features_to_the_retraining_trigger(plan, mlflow_run, report, tmp_path_factory):
    started = time.monotonic()
    data = tmp_path_factory.mktemp("loop")
    step = step_runner(mlflow_run, data, extra_env=dict(mlflow_run.store.env))
    frame, how = _features(plan, step, data)
    trained = step("train", "--features", frame, "--label", "churned", "--entity", "customer_id",
                   "--experiment", f"{MODEL}-retraining")
    version = step("register", "--run-id", trained["run_id"], "--model-name", MODEL)["version"]
    step("evaluate", "--model-name", MODEL, "--version", version)
    promoted = step("promote", "--model-name", MODEL, "--version", version)
    assert promoted["promoted"] and promoted["production_version"] == version, promoted
    target = step("target", "--model-name", MODEL, "--version", version,
                  "--artifacts-destination", mlflow_run.artifacts_destination)["storage_uri"]

    rendered = render_serving_plan(plan.stack, {
        "enabled": True, "runtimeImage": "registry.example.com/mlserver:1.7.1-mlflow3.10.1", "storageUri": target,
        "modelVersion": version, "serviceName": SERVICE, "modelName": MODEL}, data / "plan")
    [isvc] = rendered.k8s_objects("InferenceService")
    assert isvc["spec"]["predictor"]["logger"]["mode"] == "all"
    store = object_store(rendered_output(rendered), mlflow_run.store.env, mlflow_run.bin_dir / "python")

    with Processes(LOGS / plan.stack / "loop") as procs:
        model_dir = Path(step.client("serving_client.py", "download", target, str(data / "model")))
        _, http, _ = mlserver_process(procs, rendered, venv("mlserver"), model_dir, SERVICE, "loop")
        sink, sink_url = start_sink(procs, rendered, mlflow_run.bin_dir / "python",
                                    {**store.env, "PATH": "/usr/bin:/bin", "HOME": str(data)})
        with LoggingAgent(http, sink_url, SERVICE) as agent:
            answers = [infer(agent.port, SERVICE, _shifted(5, seed)) for seed in range(40)]
        assert {status for status, _ in answers} == {200}, answers[:3]
        assert sorted(agent.sent) == sorted([("org.kubeflow.serving.inference.request", 200)] * 40
                                            + [("org.kubeflow.serving.inference.response", 200)] * 40)
        assert store.parts() == []  # batched: nothing written per request
        procs.stop(sink, grace=30)  # SIGTERM, as Kubernetes stops the pod: the held rows become one part
        assert sink.popen.returncode == 0, sink.failure("exit status")
        parts = store.parts()
        assert len(parts) == 1 and parts[0].endswith(".parquet"), parts

        with harness.alert_path(procs, rendered) as path:
            drift = step(*harness.drift_step_argv(rendered, MODEL, store.drift_uri(data / "recent"),
                                                  path.gateway.url, str(data / "drift")))
            assert drift["detected"] and drift["production_version"] == version, drift
            firing = harness.wait_for("alert firing", lambda: monitoring.query(
                path.prometheus_url, f'ALERTS{{alertname="{ALERT}",alertstate="firing",model="{MODEL}"}}'), 60)
            body = harness.wait_for("Alertmanager webhook", lambda: [b for p, b in path.deliveries()
                                                                     if p == path.endpoint["endpoint"]], 90)[0]
    assert firing and body["status"] == "firing"
    passes, workflow = harness.sensor_workflow(rendered, body)
    assert passes and workflow["spec"]["workflowTemplateRef"]["name"] == "retraining"
    assert workflow["spec"]["arguments"]["parameters"] == [{"name": "model-name", "value": MODEL}]
    report(f"loop ({time.monotonic() - started:.0f}s): features from {how} -> v{version} trained (roc_auc "
           f"{trained['metrics']['roc_auc']:.3f}), registered, promoted -> MLServer answered 40 V2 requests -> "
           f"80 logger events -> 1 part in {store.output} -> drift share {drift['share']:.2f} "
           f"{drift['drifted']} -> {ALERT} firing -> webhook -> Sensor model-name={MODEL}")
