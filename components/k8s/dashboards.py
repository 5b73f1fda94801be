"""Grafana dashboards the platform ships, as plain JSON models (Grafana's sidecar loads ConfigMaps).

PromQL joins on node labels that kube-state-metrics exports (``label_mlops_dev_pool`` ...), which
the monitoring stack allow-lists; DCGM series carry a ``node`` label added at scrape time.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from components.k8s import PLATFORM_NAMESPACE, TRAINING_NAMESPACE, DashboardQuery

DATASOURCE = {"type": "prometheus", "uid": "prometheus"}  # the datasource kube-prometheus-stack provisions
POOL = "label_mlops_dev_pool"
CAPACITY = "label_mlops_dev_capacity_type"
POOL_NODES = f'kube_node_labels{{{POOL}!=""}}'
SPOT_NODES = f'kube_node_labels{{{CAPACITY}="spot"}}'


def _per_pool(metric: str) -> str:
    return f"sum by ({POOL}) ({metric} * on (node) group_left ({POOL}) {POOL_NODES})"


def _requested_ratio(resource: str) -> str:
    """Share of a pool's allocatable `resource` that pods request (how full the pool is)."""
    requested = _per_pool(f'sum by (node) (kube_pod_container_resource_requests{{resource="{resource}"}})')
    allocatable = _per_pool(f'kube_node_status_allocatable{{resource="{resource}"}}')
    return f"{requested} / {allocatable}"


def _panel(index: int, title: str, targets: Sequence[tuple[str, str]], unit: str = "short") -> dict[str, Any]:
    return {
        "id": index + 1, "type": "timeseries", "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
                    for i, (expr, legend) in enumerate(targets)],
    }


def _dashboard(uid: str, title: str, panels: Sequence[tuple[str, Sequence[tuple[str, str]], str]]) -> str:
    model = {
        "uid": uid, "title": title, "tags": ["mlops-platform"], "timezone": "utc", "schemaVersion": 39,
        "editable": False, "refresh": "1m", "time": {"from": "now-24h", "to": "now"},
        "panels": [_panel(i, panel_title, targets, unit) for i, (panel_title, targets, unit) in enumerate(panels)],
    }
    return json.dumps(model, indent=1, sort_keys=True)


def training_pools(gpu_metrics: bool) -> str:
    pool_legend = "{{" + POOL + "}}"
    panels: list[tuple[str, Sequence[tuple[str, str]], str]] = [
        ("Nodes per pool", [(f"count by ({POOL}) ({POOL_NODES})", pool_legend)], "short"),
        ("CPU requested / allocatable per pool", [(_requested_ratio("cpu"), pool_legend)], "percentunit"),
        ("Memory requested / allocatable per pool", [(_requested_ratio("memory"), pool_legend)], "percentunit"),
        ("CPU used per pool (cores)",
         [(_per_pool('sum by (node) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'), pool_legend)], "short"),
        ("Pending training pods", [(f'sum(kube_pod_status_phase{{namespace="{TRAINING_NAMESPACE}",phase="Pending"}})',
                                    "pending")], "short"),
    ]
    if gpu_metrics:
        panels += [
            ("GPUs requested / allocatable per pool", [(_requested_ratio("nvidia_com_gpu"), pool_legend)], "percentunit"),
            ("GPU utilisation per pool (DCGM)",
             [(f"avg by ({POOL}) (DCGM_FI_DEV_GPU_UTIL * on (node) group_left ({POOL}) {POOL_NODES})", pool_legend)],
             "percent"),
            ("GPU memory used per pool (DCGM)",
             [(f"sum by ({POOL}) (DCGM_FI_DEV_FB_USED * on (node) group_left ({POOL}) {POOL_NODES})", pool_legend)],
             "decmbytes"),
        ]
    return _dashboard("mlops-training-pools", "MLOps / Training pool utilisation", panels)


def spot_interruptions(extra: Sequence[DashboardQuery]) -> str:
    pool_legend = "{{" + POOL + "}}"
    panels: list[tuple[str, Sequence[tuple[str, str]], str]] = [
        ("Spot nodes per pool", [(f"count by ({POOL}) ({SPOT_NODES})", pool_legend)], "short"),
        # The interruption consumer cordons a node as soon as the reclaim notice arrives.
        ("Spot nodes cordoned (reclaim in progress)",
         [(f"sum by ({POOL}) (kube_node_spec_unschedulable * on (node) group_left ({POOL}) {SPOT_NODES})",
           pool_legend)], "short"),
        ("Spot nodes lost in the last hour",
         [(f"clamp_min(max_over_time(count({SPOT_NODES})[1h:5m]) - count({SPOT_NODES}), 0)", "nodes")], "short"),
        ("Training pods evicted / failed",
         [(f'sum(kube_pod_status_reason{{namespace="{TRAINING_NAMESPACE}",reason="Evicted"}})', "evicted"),
          (f'sum(kube_pod_status_phase{{namespace="{TRAINING_NAMESPACE}",phase="Failed"}})', "failed")], "short"),
        ("Training container restarts (1h)",
         [(f'sum(increase(kube_pod_container_status_restarts_total{{namespace="{TRAINING_NAMESPACE}"}}[1h]))',
           "restarts")], "short"),
    ]
    panels += [(query.title, [(query.expr, query.legend)], "short") for query in extra]
    return _dashboard("mlops-spot-interruptions", "MLOps / Spot interruptions", panels)


REQUESTS = "mlflow_http_request_total"
LATENCY = "mlflow_http_request_duration_seconds"


def mlflow() -> str:
    ns = PLATFORM_NAMESPACE
    panels: list[tuple[str, Sequence[tuple[str, str]], str]] = [
        ("Tracking server replicas up", [('sum(up{job="mlflow"})', "up")], "short"),
        # MLflow's own exporter (prometheus-flask-exporter with prefix "mlflow"); checked against the real
        # server's /metrics by make smoke.
        ("Requests per second by status",
         [(f'sum by (status) (rate({REQUESTS}{{job="mlflow"}}[5m]))', "{{status}}")], "reqps"),
        ("Request latency p95",
         [(f'histogram_quantile(0.95, sum by (le) (rate({LATENCY}_bucket{{job="mlflow"}}[5m])))', "p95")], "s"),
        # "or vector(0)": no 5xx series at all means a ratio of 0, not an empty panel.
        ("Server errors (5xx) ratio",
         [(f'(sum(rate({REQUESTS}{{job="mlflow",status=~"5.."}}[5m])) or vector(0)) / '
           f'sum(rate({REQUESTS}{{job="mlflow"}}[5m]))', "5xx")], "percentunit"),
        ("Memory working set",
         [(f'sum by (pod) (container_memory_working_set_bytes{{namespace="{ns}",container="mlflow"}})', "{{pod}}")],
         "bytes"),
        ("CPU", [(f'sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace="{ns}",container="mlflow"}}[5m]))',
                  "{{pod}}")], "short"),
    ]
    return _dashboard("mlops-mlflow", "MLOps / MLflow tracking server", panels)


DRIFT = "mlops_model_drift"


def model_drift() -> str:
    """The drift job's scores (pipelines/exposition.py), kept per model by the Pushgateway."""
    panels: list[tuple[str, Sequence[tuple[str, str]], str]] = [
        ("Share of drifted features", [(f"max by (model) ({DRIFT}_share)", "{{model}}")], "percentunit"),
        ("Drift detected (1 = retraining triggered)", [(f"max by (model) ({DRIFT}_detected)", "{{model}}")], "short"),
        # A p-value under the job's threshold (0.05 unless configured) marks the feature as drifted.
        ("Per-feature p-value (Kolmogorov-Smirnov)",
         [(f"min by (model, feature) ({DRIFT}_feature_p_value)", "{{model}} / {{feature}}")], "short"),
        ("Hours since the last drift run",
         [(f"(time() - max by (model) ({DRIFT}_last_run_timestamp_seconds)) / 3600", "{{model}}")], "h"),
    ]
    return _dashboard("mlops-model-drift", "MLOps / Model drift", panels)
