"""Monitoring: pinned chart, storage and retention, Grafana admin from a Secret, alert routes,
ServiceMonitors for MLflow/Feast/DCGM, dashboards; and the GPU node agents."""

from __future__ import annotations

import json

import pytest
from k8s_helpers import ALERTMANAGER_ROLE, monitoring_args, named, pod_spec

from components.k8s import AlertReceiver, AlertRoute
from components.k8s._common import InvalidInput
from components.k8s.gpu import DCGM_EXPORTER_IMAGE, DEVICE_PLUGIN_IMAGE
from components.k8s.monitoring import CHART_REPOSITORY, CHART_VERSION, alertmanager_config

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def release(prod):
    return prod.one(RELEASE)["inputs"]


def test_chart_is_pinned(release):
    assert release["chart"] == "kube-prometheus-stack"
    assert release["version"] == CHART_VERSION and CHART_VERSION.count(".") == 2
    assert release["repositoryOpts"]["repo"] == CHART_REPOSITORY
    assert release["namespace"] == "monitoring" and release["atomic"] is True


def test_prometheus_keeps_metrics_on_a_persistent_volume_for_the_retention(release):
    spec = release["values"]["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "30d"
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3-encrypted"
    assert claim["resources"]["requests"]["storage"] == "150Gi"  # 30 days x 5 GB in prod
    assert spec["retentionSize"] == "127GB"
    assert spec["replicas"] == 2
    assert release["values"]["grafana"]["persistence"]["enabled"] is True


def test_grafana_admin_password_comes_from_a_secret_not_from_values(prod, release):
    grafana = release["values"]["grafana"]
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert "adminPassword" not in grafana
    secret = named(prod, "kubernetes:core/v1:Secret", "grafana-admin", "monitoring")
    assert prod.is_secret(secret["urn"], "stringData")
    assert secret["urn"] in prod.one(RELEASE)["dependencies"]


def test_alert_routes_and_receivers_come_from_config(release):
    values = release["values"]["alertmanager"]
    config = values["config"]
    assert config["route"]["receiver"] == "platform-alerts"
    assert {"receiver": "platform-alerts", "matchers": ['severity="critical"'], "group_by": ["alertname", "namespace"],
            "repeat_interval": "4h", "continue": False} in config["route"]["routes"]
    sns = next(r for r in config["receivers"] if r["name"] == "platform-alerts")["sns_configs"][0]
    assert sns["topic_arn"].endswith(":mlops-prod-alerts")
    assert values["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": ALERTMANAGER_ROLE}


@pytest.mark.parametrize("receivers, routes, message", [
    ([AlertReceiver("slack", {"slack_configs": [{"api_url": "https://hooks.slack.com/services/T/B/X"}]})], [], "would put a credential"),
    ([AlertReceiver("sns", {})], [AlertRoute("pager", ['severity="critical"'])], "no such receiver"),
    ([AlertReceiver("null", {})], [], "must be unique and not 'null'"),
    ([AlertReceiver("nested", AlertReceiver("sns", {}))], [], "config must be the receiver's body as a mapping"),
])
def test_alert_config_refuses_credentials_and_dangling_routes(receivers, routes, message):
    with pytest.raises(InvalidInput, match=message):
        alertmanager_config(monitoring_args(alert_receivers=receivers, alert_routes=routes))


def test_service_monitors_scrape_mlflow_feast_and_dcgm(release, dev):
    monitors = {m["name"]: m for m in release["values"]["prometheus"]["additionalServiceMonitors"]}
    assert set(monitors) == {"mlflow", "feast", "dcgm-exporter"}
    assert monitors["mlflow"]["namespaceSelector"] == {"matchNames": ["mlops"]}
    assert monitors["mlflow"]["endpoints"][0]["port"] == "http"
    assert monitors["feast"]["endpoints"][0]["port"] == "metrics"
    assert monitors["dcgm-exporter"]["namespaceSelector"] == {"matchNames": ["node-agents"]}
    dev_monitors = dev.one(RELEASE)["inputs"]["values"]["prometheus"]["additionalServiceMonitors"]
    assert sorted(m["name"] for m in dev_monitors) == ["feast", "mlflow"]  # no GPU pools, no DCGM


def test_dashboards_for_pools_spot_interruptions_mlflow_and_drift(prod, release):
    maps = [r for r in prod.by_type("kubernetes:core/v1:ConfigMap") if r["inputs"]["metadata"]["labels"].get("grafana_dashboard") == "1"]
    models = {json.loads(v)["uid"]: json.loads(v) for m in maps for v in m["inputs"]["data"].values()}
    assert set(models) == {"mlops-training-pools", "mlops-spot-interruptions", "mlops-mlflow", "mlops-model-drift"}
    exprs = {uid: " ".join(t["expr"] for p in m["panels"] for t in p["targets"]) for uid, m in models.items()}
    assert "DCGM_FI_DEV_GPU_UTIL" in exprs["mlops-training-pools"] and "label_mlops_dev_pool" in exprs["mlops-training-pools"]
    assert "karpenter_interruption_received_messages_total" in exprs["mlops-spot-interruptions"]
    assert 'job="mlflow"' in exprs["mlops-mlflow"]
    # The drift job's share and per-feature p-values (pipelines/exposition.py names them).
    assert "mlops_model_drift_share" in exprs["mlops-model-drift"]
    assert "min by (model, feature) (mlops_model_drift_feature_p_value)" in exprs["mlops-model-drift"]
    allow = release["values"]["kube-state-metrics"]["metricLabelsAllowlist"]
    assert allow == ["nodes=[mlops.dev/pool,mlops.dev/capacity-type,mlops.dev/accelerator]"]
    assert release["values"]["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"


def test_node_exporter_lives_with_the_node_agents(release):
    exporter = release["values"]["prometheus-node-exporter"]
    assert exporter["namespaceOverride"] == "node-agents" and exporter["priorityClassName"] == "system-node-critical"


def test_gpu_agents_run_only_on_gpu_nodes_with_pinned_images(prod, dev):
    daemonsets = {r["inputs"]["metadata"]["name"]: r for r in prod.by_type("kubernetes:apps/v1:DaemonSet")}
    assert set(daemonsets) == {"nvidia-device-plugin", "dcgm-exporter"}
    for name, image in (("nvidia-device-plugin", DEVICE_PLUGIN_IMAGE), ("dcgm-exporter", DCGM_EXPORTER_IMAGE)):
        spec = pod_spec(daemonsets[name])
        assert daemonsets[name]["inputs"]["metadata"]["namespace"] == "node-agents"
        assert spec["nodeSelector"] == {"mlops.dev/accelerator": "nvidia-gpu"}
        assert {"operator": "Exists"} in spec["tolerations"]  # GPU and spot taints
        assert spec["priorityClassName"] == "system-node-critical"
        assert spec["containers"][0]["image"] == image
    assert "@sha256:" in DCGM_EXPORTER_IMAGE  # pinned by digest (source in components/k8s/gpu.py)
    plugin_volume = pod_spec(daemonsets["nvidia-device-plugin"])["volumes"][0]
    assert plugin_volume["hostPath"]["path"] == "/var/lib/kubelet/device-plugins"
    assert pod_spec(daemonsets["dcgm-exporter"])["securityContext"]["runAsNonRoot"] is True
    assert dev.by_type("kubernetes:apps/v1:DaemonSet") == []


def test_mlflow_scrape_authenticates_with_the_scrape_secret_in_the_monitoring_namespace(release, prod):
    """basic-auth protects MLflow's /metrics: without credentials the scrape gets 401 (issue 9 item 15)."""
    (monitor,) = [m for m in release["values"]["prometheus"]["additionalServiceMonitors"] if m["name"] == "mlflow"]
    assert monitor["endpoints"][0]["basicAuth"] == {"username": {"name": "mlflow-scrape", "key": "username"},
                                                   "password": {"name": "mlflow-scrape", "key": "password"}}
    secret = named(prod, "kubernetes:core/v1:Secret", "mlflow-scrape", "monitoring")
    assert prod.is_secret(secret["urn"], "stringData")
    feast = [m for m in release["values"]["prometheus"]["additionalServiceMonitors"] if m["name"] == "feast"][0]
    assert "basicAuth" not in feast["endpoints"][0]  # Feast's metrics port has no auth


def test_mlflow_dashboard_queries_the_metrics_mlflow_exports(prod):
    """MLflow 3.10 exports mlflow_http_request_* (prometheus-flask-exporter, prefix "mlflow"), not flask_http_*
    (issue 9 item 16; make smoke checks the names against the real server's /metrics)."""
    (board,) = [r for r in prod.by_type("kubernetes:core/v1:ConfigMap") if r["inputs"]["metadata"]["name"] == "dashboard-mlflow"]
    model = json.loads(board["inputs"]["data"]["mlflow.json"])
    exprs = " ".join(t["expr"] for p in model["panels"] for t in p["targets"])
    assert "flask_http" not in exprs
    assert "mlflow_http_request_total" in exprs and "mlflow_http_request_duration_seconds_bucket" in exprs
    ratio = [t["expr"] for p in model["panels"] if p["title"] == "Server errors (5xx) ratio" for t in p["targets"]][0]
    assert "or vector(0)" in ratio  # no 5xx series is a ratio of 0, not an empty panel


def test_drift_alert_is_in_the_platform_rules(release):
    rules = release["values"]["additionalPrometheusRulesMap"]["mlops-platform"]["groups"][0]["rules"]
    [drift] = [r for r in rules if r.get("alert") == "ModelDriftDetected"]
    assert drift["expr"] == "max by (model) (mlops_model_drift_detected) == 1" and drift["for"] == "0m"


def test_a_scrape_target_can_keep_the_pushed_labels():
    from components.k8s import ScrapeTarget
    from components.k8s.monitoring import service_monitor

    plain = service_monitor(ScrapeTarget("mlflow", "mlops", {"app.kubernetes.io/name": "mlflow"}, "http"))
    pushed = service_monitor(ScrapeTarget("pushgateway", "pipelines", {"app.kubernetes.io/name": "pushgateway"},
                                          "metrics", honor_labels=True))
    assert "honorLabels" not in plain["endpoints"][0] and pushed["endpoints"][0]["honorLabels"] is True
