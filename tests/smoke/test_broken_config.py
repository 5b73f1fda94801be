"""A deliberately broken rendered config fails the smoke run with a message that names the component
and the setting: one case per thing `make smoke` proves (issue 10, "Done when")."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time

import pytest

from mlops_tools.smoke import MissingPrerequisite, SmokeFailure, envs, monitoring
from mlops_tools.smoke.mlflow import start_mlflow
from mlops_tools.smoke.plan import REPO, Plan
from mlops_tools.smoke.procs import Processes
from mlops_tools.smoke.services import start_prometheus

from conftest import LOGS


def _copy(plan: Plan) -> Plan:
    return Plan(copy.deepcopy(plan.data), source=f"{plan.source} (broken copy)")


def test_uri_without_driver_fails_in_the_migrate_init_container(plan, monkeypatch):
    """Item 19: a bare postgresql:// means psycopg 3 under SQLAlchemy 2.1, which the image lacks."""
    import components.tracking as tracking

    broken = _copy(plan)
    external = broken.external_secret("mlflow-database", "mlops")
    if external is not None:  # AWS: break the rendered ExternalSecret template itself
        data = external["spec"]["target"]["template"]["data"]
        data["uri"] = data["uri"].replace("postgresql+psycopg2://", "postgresql://")
    else:  # Azure/GCP: the plan hides the Secret; break the program's URI builder that writes it
        build = tracking.database_uri
        monkeypatch.setattr(tracking, "database_uri", lambda *parts: build(*parts).replace("+psycopg2", "", 1))
    with Processes(LOGS / plan.stack / "broken-uri") as procs:
        with pytest.raises(SmokeFailure) as failure:
            start_mlflow(procs, broken)
    message = str(failure.value)
    assert "Deployment mlops/mlflow init container migrate failed" in message
    assert "Secret mlflow-database key uri must start with postgresql+psycopg2://" in message


def test_an_image_of_another_mlflow_version_than_the_smoke_venv_is_named(plan):
    """Item 1: the smoke run installs the MLflow the rendered image pins, or says it does not."""
    from mlops_tools.smoke.mlflow import check_pinned_version

    assert check_pinned_version(plan) == "3.10.1"
    broken = _copy(plan)
    container = broken.workload("mlflow", "mlops").container("mlflow")
    container.spec["image"] = "ghcr.io/mlflow/mlflow:v3.11.0-full"
    with pytest.raises(SmokeFailure) as failure:
        check_pinned_version(broken)
    assert "Deployment mlops/mlflow image 'ghcr.io/mlflow/mlflow:v3.11.0-full' pins MLflow 3.11.0" in str(failure.value)


def _without_scrape_credentials(plan: Plan) -> Plan:
    broken = _copy(plan)
    for monitor in broken.helm_values(monitoring.CHART)["prometheus"]["additionalServiceMonitors"]:
        if monitor["name"] == "mlflow":
            monitor["endpoints"][0].pop("basicAuth")
    return broken


def test_scrape_without_credentials_makes_the_server_down_alert_fire(plan, scrape_targets, mlflow_run):
    """Item 15: basic-auth protects /metrics; a ServiceMonitor without credentials scrapes 401s."""
    broken = _without_scrape_credentials(plan)
    monitor = [m for m in monitoring.service_monitors(broken) if m["name"] == "mlflow"][0]
    job, files = monitoring.scrape_config(broken, monitor, scrape_targets["mlflow"])
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": [job]}
    with Processes(LOGS / plan.stack / "broken-scrape") as procs:
        server = start_prometheus(procs, config, monitoring.rule_groups(broken), files)
        deadline = time.monotonic() + 30
        while not any(t["lastError"] for t in monitoring.target_health(server.url, "mlflow")):
            assert time.monotonic() < deadline, "no scrape happened"
            time.sleep(0.5)
        with pytest.raises(SmokeFailure) as failure:
            monitoring.check_alerts(broken, server.url, {"mlflow"})
    message = str(failure.value)
    assert "alert MlflowTrackingServerDown fires" in message and "401" in message


def test_wrong_metric_name_in_a_dashboard_names_dashboard_panel_and_metric(plan, prometheus, mlflow_run):
    """Item 16: the dashboards queried flask_http_request_*, which MLflow 3.10 does not export."""
    broken = _copy(plan)
    for obj in broken.k8s_objects("ConfigMap"):
        if obj["metadata"]["name"] == "dashboard-mlflow":
            obj["data"] = {key: value.replace("mlflow_http_request_total", "flask_http_request_total")
                           for key, value in obj["data"].items()}
    server, jobs = prometheus
    with pytest.raises(SmokeFailure) as failure:
        monitoring.check_panels(broken, server.url, jobs)
    assert ("dashboard 'MLOps / MLflow tracking server' panel 'Requests per second by status'" in str(failure.value)
            and "reads flask_http_request_total, which no scraped software exports" in str(failure.value))


def test_promtool_and_amtool_name_the_broken_rule_and_config(plan, tmp_path):
    """Item 3: the real checkers reject what Prometheus and Alertmanager would reject at load."""
    source, groups = next(iter(monitoring.rule_groups(plan).items()))
    broken = copy.deepcopy(groups)
    broken["groups"][0]["rules"][0]["expr"] = 'absent(up{job="mlflow"} == )'
    with pytest.raises(SmokeFailure) as failure:
        monitoring.promtool_check_rules(source, broken, tmp_path)
    assert source in str(failure.value) and "promtool check rules" in str(failure.value)
    source, config = next(iter(monitoring.alertmanager_configs(plan).items()))
    broken_config = copy.deepcopy(config)
    broken_config["route"]["receiver"] = "nobody"
    with pytest.raises(SmokeFailure) as failure:
        monitoring.amtool_check_config(source, broken_config, tmp_path)
    assert source in str(failure.value) and '"nobody"' in str(failure.value)


def test_custom_resources_validate_and_a_broken_one_is_named(plan, tmp_path):
    """Item 4: the validate job checks every custom resource against its pinned CRD."""
    def manifests(plan_data: dict) -> subprocess.CompletedProcess:
        path = tmp_path / f"{plan.stack}.json"
        path.write_text(json.dumps(plan_data))
        return subprocess.run([sys.executable, "-m", "mlops_tools", "manifests", "--stack", plan.stack, "--plan",
                               str(path), "--out", str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True)

    good = manifests(plan.data)
    assert good.returncode == 0, good.stderr
    assert "0 custom resources without a schema" in good.stdout
    broken = copy.deepcopy(plan.data)
    release = next(r for r in broken["resources"] if r["type"] == "kubernetes:helm.sh/v3:Release"
                   and r["inputs"].get("chart") == monitoring.CHART)
    release["inputs"]["values"]["prometheus"]["additionalServiceMonitors"][0]["endpoints"][0]["interval"] = 30
    bad = manifests(broken)
    assert bad.returncode == 1
    assert "values prometheus.additionalServiceMonitors[0]" in bad.stderr and "endpoints[0].interval" in bad.stderr


def test_a_missing_prerequisite_names_the_debian_package(monkeypatch):
    """Item 5: without permission to install, the run says what to install instead of skipping."""
    monkeypatch.setattr(envs, "may_install", lambda: False)
    monkeypatch.setattr(envs, "_find", lambda program: None)
    with pytest.raises(MissingPrerequisite) as failure:
        envs.system_program("amtool")
    assert "Debian package 'prometheus-alertmanager'" in str(failure.value)
    assert "apt-get install -y prometheus-alertmanager" in str(failure.value)
