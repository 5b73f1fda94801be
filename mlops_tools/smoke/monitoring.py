"""The rendered monitoring config, checked with the real Prometheus tools.

- ``rule_groups`` / ``alertmanager_configs``: every PrometheusRule (chart values and CRs) and every
  Alertmanager config the plan renders; ``promtool_check_rules`` and ``amtool_check_config`` run the
  real checkers on them.
- ``scrape_config``: a Prometheus scrape job built from a rendered ServiceMonitor endpoint the way
  the operator builds it (job = the selected Service's name, path, scheme, basic-auth from the
  referenced Secret), pointed at the local process behind the endpoint's port. The port chain
  (ServiceMonitor port -> Service port -> targetPort -> container port) is checked on the way.
- ``check_panels``: every dashboard query evaluated against a Prometheus; each must parse, and each
  whose metrics come from software the run scrapes must return data. Queries on metrics of
  software the run does not have (kube-state-metrics, cAdvisor, GPU exporter, Karpenter, ...) are
  reported as such; a metric nobody exports is a failure.

Feast (or any other workload) joins by passing its ``ScrapeTarget`` to ``scrape_config``; nothing
here is MLflow-specific.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.envs import system_program
from mlops_tools.smoke.plan import Plan
from mlops_tools.smoke.procs import HOST

CHART = "kube-prometheus-stack"
# Metric name prefixes of software a smoke run does not start, and why a panel on them has no data here.
NOT_RUN_HERE = {
    "kube_": "kube-state-metrics (needs a Kubernetes API server)",
    "container_": "cAdvisor in the kubelet (needs a node)",
    "node_": "node-exporter (needs a node)",
    "DCGM_": "NVIDIA DCGM exporter (needs a GPU node)",
    "karpenter_": "Karpenter (needs an EKS cluster)",
    "kubelet_": "kubelet (needs a node)",
    "mlops_model_drift_": "the drift CronWorkflow through the Pushgateway (tests/smoke/test_drift_trigger.py scrapes it)",
}
_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile", "count_values", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "rate", "irate", "increase", "delta", "idelta", "changes", "resets", "deriv", "predict_linear", "absent",
    "absent_over_time", "histogram_quantile", "clamp_min", "clamp_max", "clamp", "label_replace", "label_join",
    "vector", "scalar", "time", "abs", "ceil", "floor", "round", "sort", "sort_desc", "max_over_time",
    "min_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time", "le", "inf", "nan",
}


def service_monitors(plan: Plan) -> list[dict[str, Any]]:
    values = plan.helm_values(CHART)
    return [*values.get("prometheus", {}).get("additionalServiceMonitors", []),
            *[{"name": o["metadata"]["name"], **o["spec"], "namespace": o["metadata"].get("namespace")}
              for o in plan.k8s_objects("ServiceMonitor")]]


def rule_groups(plan: Plan) -> dict[str, dict[str, Any]]:
    """{source: {"groups": [...]}} for every rule set the plan renders."""
    values = plan.helm_values(CHART)
    rules = {f"{CHART} values additionalPrometheusRulesMap.{key}": value
             for key, value in values.get("additionalPrometheusRulesMap", {}).items()}
    for obj in plan.k8s_objects("PrometheusRule"):
        rules[f"PrometheusRule {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"] = obj["spec"]
    return rules


def alertmanager_configs(plan: Plan) -> dict[str, dict[str, Any]]:
    values = plan.helm_values(CHART)
    configs = {}
    if "config" in values.get("alertmanager", {}):
        configs[f"{CHART} values alertmanager.config"] = values["alertmanager"]["config"]
    for obj in plan.k8s_objects("AlertmanagerConfig"):
        configs[f"AlertmanagerConfig {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"] = obj["spec"]
    return configs


def _check(tool: str, argv: list[str], source: str, what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SmokeFailure(f"{source}: `{tool}` rejects the rendered {what}:\n{result.stdout}{result.stderr}")


def promtool_check_rules(source: str, groups: Mapping[str, Any], work: Path) -> None:
    path = work / (re.sub(r"[^\w.-]+", "_", source) + ".rules.yml")
    path.write_text(json.dumps(groups))  # JSON is YAML
    _check("promtool check rules", [system_program("promtool"), "check", "rules", str(path)], source, "rules")


def amtool_check_config(source: str, config: Mapping[str, Any], work: Path) -> None:
    path = work / (re.sub(r"[^\w.-]+", "_", source) + ".alertmanager.yml")
    path.write_text(json.dumps(config))
    _check("amtool check-config", [system_program("amtool"), "check-config", str(path)], source, "Alertmanager config")


@dataclass
class LocalTarget:
    """Where the process behind a ServiceMonitor runs in this smoke run."""

    workload: str  # Deployment name
    port: int  # local port of the container port the endpoint resolves to
    secrets: Mapping[str, str]  # the run's values for Secrets the plan hides ("<name>/<key>")


def scrape_config(plan: Plan, monitor: Mapping[str, Any], target: LocalTarget, interval: str = "3s") -> tuple[dict, dict]:
    """A Prometheus scrape job for ``monitor``'s first endpoint, and the files it needs ({name: content}).

    The interval (and with it the timeout) is shortened so a smoke run needs seconds, not minutes;
    every other setting is the rendered one.
    """
    name = monitor["name"]
    where = f"ServiceMonitor {name}"
    namespaces = monitor.get("namespaceSelector", {}).get("matchNames") or [monitor.get("namespace")]
    selector = monitor.get("selector", {}).get("matchLabels", {})
    services = [s for s in plan.k8s_objects("Service") if s["metadata"].get("namespace") in namespaces
                and selector and all(s["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
                and s.get("spec", {}).get("type", "ClusterIP") == "ClusterIP"]
    if not services:
        raise SmokeFailure(f"{where} selector {selector} in {namespaces}: selects no Service in the plan")
    service = services[0]
    endpoint = monitor["endpoints"][0]
    ports = {p.get("name"): p for p in service["spec"]["ports"]}
    if endpoint.get("port") not in ports:
        raise SmokeFailure(f"{where} endpoints[0].port {endpoint.get('port')!r}: Service {service['metadata']['name']} "
                           f"has ports {sorted(ports)}")
    target_port = ports[endpoint["port"]].get("targetPort", ports[endpoint["port"]]["port"])
    workload = plan.workload(target.workload, service["metadata"]["namespace"])
    container_ports = {p.get("name"): p for c in workload.containers for p in c.spec.get("ports", [])}
    if isinstance(target_port, str) and target_port not in container_ports:
        raise SmokeFailure(f"{where} -> Service port {endpoint['port']} targetPort {target_port!r}: Deployment "
                           f"{target.workload} has container ports {sorted(container_ports)}")
    job: dict[str, Any] = {
        "job_name": service["metadata"]["name"],  # the operator's default job label: the Service's name
        "metrics_path": endpoint.get("path", "/metrics"),
        "scheme": endpoint.get("scheme", "http"),
        "scrape_interval": interval, "scrape_timeout": interval,
        "static_configs": [{"targets": [f"{HOST}:{target.port}"], "labels": {
            "namespace": service["metadata"]["namespace"], "service": service["metadata"]["name"],
            "endpoint": endpoint["port"], "pod": f"{target.workload}-smoke"}}],
    }
    if endpoint.get("honorLabels"):
        job["honor_labels"] = True
    files = {}
    if "basicAuth" in endpoint:
        auth = endpoint["basicAuth"]
        values = {}
        for field in ("username", "password"):
            ref = auth[field]
            key = f"{ref['name']}/{ref['key']}"
            if not plan.secret_exists(ref["name"], "monitoring"):
                raise SmokeFailure(f"{where} endpoints[0].basicAuth.{field}: Secret monitoring/{ref['name']} is not in the plan")
            if key not in target.secrets:
                raise SmokeFailure(f"{where} endpoints[0].basicAuth.{field}: the smoke run has no value for {key}")
            values[field] = target.secrets[key]
        files[f"{name}-password"] = values["password"]
        job["basic_auth"] = {"username": values["username"], "password_file": f"{name}-password"}
    return job, files


def query(prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    """Evaluate ``expr`` now; raise ``SmokeFailure`` with Prometheus's error when it does not parse."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        body = json.load(error)
    if body.get("status") != "success":
        raise SmokeFailure(f"Prometheus rejects {expr!r}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]["result"]


def target_health(prometheus_url: str, job: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{prometheus_url}/api/v1/targets", timeout=30) as response:
        active = json.load(response)["data"]["activeTargets"]
    return [t for t in active if t["labels"].get("job") == job]


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (identifiers that are not functions, keywords or labels)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # drop string literals
    stripped = re.sub(r"\{[^}]*\}", "{}", stripped)  # drop label matchers
    stripped = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", stripped)
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)  # drop ranges
    names = set(re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", stripped))
    return {n for n in names if n.lower() not in _PROMQL_WORDS and not re.fullmatch(r"\d+[smhdwy]?", n)}


def dashboard_panels(plan: Plan) -> list[tuple[str, str, str]]:
    """(dashboard title, panel title, expr) of every dashboard ConfigMap in the plan."""
    panels = []
    for obj in plan.k8s_objects("ConfigMap"):
        if obj.get("metadata", {}).get("labels", {}).get("grafana_dashboard") != "1":
            continue
        for content in obj.get("data", {}).values():
            model = json.loads(content)
            for panel in model.get("panels", []):
                for target in panel.get("targets", []):
                    panels.append((model["title"], panel["title"], target["expr"]))
    return panels


def not_run_reason(names: set[str]) -> Optional[str]:
    reasons = sorted({reason for n in names for prefix, reason in NOT_RUN_HERE.items() if n.startswith(prefix)})
    return "; ".join(reasons) or None


def check_panels(plan: Plan, prometheus_url: str, scraped_jobs: set[str]) -> list[str]:
    """Evaluate every dashboard query. Returns the panels that cannot have data here, with why; raises
    ``SmokeFailure`` (naming dashboard, panel and query) for a query that does not parse, that reads a
    metric no scraped software exports, or that returns nothing although its software runs."""
    exported = set(_label_values(prometheus_url, "__name__"))
    skipped, failures = [], []
    for dashboard, panel, expr in dashboard_panels(plan):
        where = f"dashboard {dashboard!r} panel {panel!r}"
        try:
            result = query(prometheus_url, expr)
        except SmokeFailure as error:
            failures.append(f"{where}: {error}")
            continue
        names = metric_names(expr)
        reason = not_run_reason(names)
        missing = sorted(n for n in names if n not in exported and not_run_reason({n}) is None)
        if missing:
            failures.append(f"{where}: query {expr!r} reads {', '.join(missing)}, which no scraped software exports "
                            f"(jobs: {', '.join(sorted(scraped_jobs))})")
        elif reason:
            skipped.append(f"{where}: no data here, metrics come from {reason}")
        elif not result:
            failures.append(f"{where}: query {expr!r} returned no data although its metrics are scraped")
    if failures:
        raise SmokeFailure("\n".join(failures))
    return skipped


def _label_values(prometheus_url: str, label: str) -> list[str]:
    with urllib.request.urlopen(f"{prometheus_url}/api/v1/label/{label}/values", timeout=30) as response:
        return json.load(response)["data"]


def check_alerts(plan: Plan, prometheus_url: str, scraped_jobs: set[str]) -> list[str]:
    """Evaluate every alert expression: each must parse; an alert on a job the run scrapes must not be
    firing while that software is healthy. Returns the alerts that read software not run here."""
    skipped, failures = [], []
    for source, groups in rule_groups(plan).items():
        for group in groups.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" not in rule:
                    continue
                where = f"{source} alert {rule['alert']}"
                try:
                    result = query(prometheus_url, rule["expr"])
                except SmokeFailure as error:
                    failures.append(f"{where}: {error}")
                    continue
                jobs = set(re.findall(r'job\s*=\s*"([^"]+)"', rule["expr"]))
                if jobs & scraped_jobs:
                    if result:
                        health = [f"{t['scrapeUrl']} health={t['health']} lastError={t['lastError']!r}"
                                  for job in jobs for t in target_health(prometheus_url, job)]
                        failures.append(f"{where} fires although the software runs: {rule['expr']!r} -> {result}; "
                                        f"scrape: {'; '.join(health) or 'no target'}")
                elif jobs:
                    skipped.append(f"{where}: job {', '.join(sorted(jobs))} is not run by this smoke run")
                elif reason := not_run_reason(metric_names(rule["expr"])):
                    skipped.append(f"{where}: metrics come from {reason}")
    if failures:
        raise SmokeFailure("\n".join(failures))
    return skipped
