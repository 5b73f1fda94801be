"""Issue 11, drift -> retraining on the real software: the drift step (rendered CronWorkflow arguments, the
pinned MLflow venv, the stack's real MLflow) pushes to a real Pushgateway (rendered arguments); a real
Prometheus scrapes it with the rendered ServiceMonitor settings and the rendered rules; the real
Alertmanager routes with the rendered config and delivers the webhook, with the bearer token read from the
rendered credentials file, to a local stand-in of the EventSource; the Sensor's rendered filter and parameter path, applied to that real payload, name the
drifted model. Same-distribution data fires nothing."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from mlops_tools.smoke import drift as harness
from mlops_tools.smoke import monitoring
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.pipeline_steps import step_runner
from mlops_tools.smoke.procs import Processes

from conftest import LOGS

MODEL = "churn-drift"
ALERT = "ModelDriftDetected"


@pytest.fixture(scope="module")
def rendered(plan, report):
    """The stack's own plan: every shipped stack file enables ``mlops:pipelines.drift``."""
    assert plan.resources(harness.DRIFT_COMPONENT), \
        f"stack {plan.stack}'s plan has no {harness.DRIFT_COMPONENT} (mlops:pipelines.drift.enabled is off)"
    report(f"drift trigger config: stack {plan.stack}'s plan")
    return plan


@pytest.fixture(scope="module")
def steps(mlflow_run, tmp_path_factory):
    """The steps as the containers run them, with a production model to compare against."""
    step = step_runner(mlflow_run, tmp_path_factory.mktemp("drift"))
    trained = step("train", "--features", step.table("clean", 21), "--label", "churned", "--entity", "customer_id",
                   "--experiment", f"{MODEL}-retraining")
    version = step("register", "--run-id", trained["run_id"], "--model-name", MODEL)["version"]
    step("evaluate", "--model-name", MODEL, "--version", version)
    assert step("promote", "--model-name", MODEL, "--version", version)["promoted"]
    return step


def test_drift_alert_reaches_the_retraining_trigger_with_the_model_name(plan, rendered, steps, report):
    with Processes(LOGS / plan.stack / "drift") as procs, harness.alert_path(procs, rendered) as path:
        assert path.scrape_job.get("honor_labels") is True  # the pushed job/model labels survive the scrape

        def drift(kind: str, seed: int) -> dict:
            # recentPath is a prefix: the serving log's parquet parts under one folder.
            folder = steps.data / f"recent-{kind}"
            folder.mkdir()
            Path(steps.table(kind, seed)).rename(folder / "part-00000.parquet")
            out = steps.data / f"out-{kind}"
            return steps(*harness.drift_step_argv(rendered, MODEL, str(folder), path.gateway.url, str(out)))

        calm = drift("recent", 22)
        assert not calm["detected"] and calm["pushed_to"].startswith(path.gateway.url)
        harness.wait_for("calm verdict scraped", lambda: monitoring.query(
            path.prometheus_url, f'mlops_model_drift_detected{{model="{MODEL}",job="mlops-drift"}} == 0'), 60)
        time.sleep(5)  # several rule evaluations on the calm verdict
        assert monitoring.query(path.prometheus_url, f'ALERTS{{alertname="{ALERT}"}}') == []

        shifted = drift("shifted", 23)
        assert shifted["detected"], shifted
        firing = harness.wait_for("alert firing", lambda: monitoring.query(
            path.prometheus_url, f'ALERTS{{alertname="{ALERT}",alertstate="firing"}}'), 60)
        assert firing[0]["metric"]["model"] == MODEL
        # Alertmanager's rendered group_wait (30 s) before the first notification.
        harness.wait_for("webhook delivered", path.deliveries, 90)
        assert len(path.deliveries()) == 1, path.deliveries()  # the calm run sent nothing
        hook_path, body = path.deliveries()[0]
        assert hook_path == path.endpoint["endpoint"] and body["receiver"] == "retrain" and body["status"] == "firing"
        # Exactly what Argo Events' webhook route accepts with authSecret set: "Bearer " + the Secret's value.
        assert path.authorizations() == [f"Bearer {path.token}"], path.authorizations()

        for expr in [t["expr"] for p in _drift_panels(rendered) for t in p["targets"]]:
            assert monitoring.query(path.prometheus_url, expr), f"drift dashboard query {expr!r} returned no data"

    passes, workflow = harness.sensor_workflow(rendered, body)
    assert passes
    assert workflow["kind"] == "Workflow" and workflow["spec"]["workflowTemplateRef"]["name"] == "retraining"
    assert workflow["spec"]["arguments"]["parameters"] == [{"name": "model-name", "value": MODEL}]
    [sensor] = rendered.k8s_objects("Sensor")
    assert sensor["spec"]["triggers"][0]["rateLimit"] == {"unit": "Hour", "requestsPerUnit": 1}
    # The same payload resolved, or about another alert, starts nothing.
    assert not harness.sensor_workflow(rendered, {**body, "status": "resolved"})[0]
    other = {**body, "commonLabels": {**body["commonLabels"], "alertname": f"Not{ALERT}"}}
    assert not harness.sensor_workflow(rendered, other)[0]
    report(f"drift trigger: calm share {calm['share']:.2f} no alert; shifted share {shifted['share']:.2f} -> "
           f"{ALERT} firing -> Alertmanager webhook -> Sensor parameter model-name={MODEL}")


def _drift_panels(plan):
    for obj in plan.k8s_objects("ConfigMap"):
        for content in obj.get("data", {}).values():
            model = json.loads(content) if content.lstrip().startswith("{") else {}
            if model.get("uid") == "mlops-model-drift":
                return model["panels"]
    raise AssertionError("no model-drift dashboard in the plan")


def test_promtool_rule_test_and_amtool_routing(rendered, tmp_path):
    """promtool's own rule tests on the rendered drift rule; amtool accepts the rendered config and routes a
    drift alert to ``retrain`` (and only a critical one to people)."""
    rules = monitoring.rule_groups(rendered)
    [(source, groups)] = [(s, g) for s, g in rules.items()
                          if any(r.get("alert") == ALERT for grp in g["groups"] for r in grp["rules"])]
    [rule] = [r for grp in groups["groups"] for r in grp["rules"] if r.get("alert") == ALERT]
    summary = rule["annotations"]["summary"].replace("{{ $labels.model }}", "churn")
    rule_file = tmp_path / "rules.json"
    rule_file.write_text(json.dumps(groups))
    test_file = tmp_path / "drift_test.yml"
    test_file.write_text(json.dumps({"rule_files": [str(rule_file)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": 'mlops_model_drift_detected{job="mlops-drift",model="churn"}', "values": "0 0 1 1 0"},
                         {"series": 'mlops_model_drift_detected{job="mlops-drift",model="fraud"}', "values": "0 0 0 0 0"}],
        "alert_rule_test": [
            {"eval_time": "1m", "alertname": ALERT, "exp_alerts": []},
            {"eval_time": "2m", "alertname": ALERT, "exp_alerts": [{"exp_labels": {"model": "churn", "severity": "warning"},
                                                                "exp_annotations": {"summary": summary}}]},
            {"eval_time": "4m", "alertname": ALERT, "exp_alerts": []},
        ]}]}))
    result = subprocess.run([system_program("promtool"), "test", "rules", str(test_file)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"{source}: {result.stdout}{result.stderr}"

    config = next(iter(monitoring.alertmanager_configs(rendered).values()))
    monitoring.amtool_check_config("drift", config, tmp_path)
    path = tmp_path / "drift.alertmanager.yml"
    routes = {}
    for labels in (f"alertname={ALERT} model=churn severity=warning", "alertname=Other severity=critical"):
        out = subprocess.run([system_program("amtool"), "config", "routes", "test", f"--config.file={path}",
                              *labels.split()], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        routes[labels.split()[0]] = out.stdout.strip()
    assert routes == {f"alertname={ALERT}": "retrain", "alertname=Other": "platform-alerts"}, routes
