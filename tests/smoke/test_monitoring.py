"""Monitoring with the real tools: promtool and amtool accept every rendered rule set and
Alertmanager config; a real Prometheus scrapes the run's MLflow with the rendered ServiceMonitor;
every alert expression and dashboard query is evaluated against it."""

from __future__ import annotations

import base64
import time
import urllib.request

from mlops_tools.smoke import monitoring


def test_promtool_accepts_every_rendered_rule_set(plan, tmp_path):
    rules = monitoring.rule_groups(plan)
    assert rules, "the plan renders no Prometheus rules"
    for source, groups in rules.items():
        monitoring.promtool_check_rules(source, groups, tmp_path)


def test_amtool_accepts_every_rendered_alertmanager_config(plan, tmp_path):
    configs = monitoring.alertmanager_configs(plan)
    assert configs, "the plan renders no Alertmanager config"
    for source, config in configs.items():
        monitoring.amtool_check_config(source, config, tmp_path)


def _traffic(mlflow_run, requests: int = 5) -> None:
    """Authenticated requests, so the request counters and latency histograms have samples."""
    user, password = mlflow_run.secrets["mlflow-admin/username"], mlflow_run.secrets["mlflow-admin/password"]
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    for _ in range(requests):
        request = urllib.request.Request(f"{mlflow_run.url}/api/2.0/mlflow/experiments/search?max_results=1",
                                         headers={"Authorization": f"Basic {token}"})
        urllib.request.urlopen(request, timeout=30).read()


def _wait_for(prometheus_url: str, expr: str, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while True:
        result = monitoring.query(prometheus_url, expr)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_prometheus_scrapes_mlflow_with_the_rendered_servicemonitor(prometheus, mlflow_run):
    server, jobs = prometheus
    assert "mlflow" in jobs
    up = _wait_for(server.url, 'up{job="mlflow"} == 1', timeout=60)
    health = monitoring.target_health(server.url, "mlflow")
    assert up, f"ServiceMonitor mlflow: the scrape fails: {[(t['health'], t['lastError']) for t in health]}"


def test_every_alert_parses_and_none_fires_for_running_software(plan, prometheus, mlflow_run, report):
    server, jobs = prometheus
    _wait_for(server.url, 'up{job="mlflow"} == 1')
    skipped = monitoring.check_alerts(plan, server.url, jobs)
    report(*(f"not evaluated for data: {line}" for line in skipped))


def test_every_dashboard_query_parses_and_mlflow_panels_return_data(plan, prometheus, mlflow_run, report):
    server, jobs = prometheus
    _traffic(mlflow_run)
    # rate() over the run needs two scrapes after the traffic.
    _wait_for(server.url, 'sum(rate(mlflow_http_request_total{job="mlflow"}[5m])) > 0', timeout=60)
    skipped = monitoring.check_panels(plan, server.url, jobs)
    report(*(f"parses, no data here: {line}" for line in skipped))
    assert any("cAdvisor" in line for line in skipped)  # said, not silently passed
