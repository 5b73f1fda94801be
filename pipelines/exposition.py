"""Drift scores in Prometheus' text exposition format (version 0.0.4), for the Pushgateway or a textfile
collector. Metric names are a contract with the alert rule and the dashboard."""

from __future__ import annotations

from pipelines.decision import Drift

METRIC_PREFIX = "mlops_model_drift"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(float(value))


def render(model: str, drift: Drift, timestamp: float) -> str:
    """One gauge family per score; every sample labelled with the registered model's name."""
    m = _label(model)
    lines = [
        f"# HELP {METRIC_PREFIX}_feature_p_value Two-sample Kolmogorov-Smirnov p-value, recent inputs vs training reference.",
        f"# TYPE {METRIC_PREFIX}_feature_p_value gauge",
        *(f'{METRIC_PREFIX}_feature_p_value{{model="{m}",feature="{_label(f)}"}} {_number(p)}'
          for f, p in drift.p_values.items()),
        f"# HELP {METRIC_PREFIX}_feature_drifted 1 when the feature's p-value is below the threshold.",
        f"# TYPE {METRIC_PREFIX}_feature_drifted gauge",
        *(f'{METRIC_PREFIX}_feature_drifted{{model="{m}",feature="{_label(f)}"}} {int(f in drift.drifted)}'
          for f in drift.p_values),
        f"# HELP {METRIC_PREFIX}_share Share of features that drifted.",
        f"# TYPE {METRIC_PREFIX}_share gauge",
        f'{METRIC_PREFIX}_share{{model="{m}"}} {_number(drift.share)}',
        f"# HELP {METRIC_PREFIX}_detected 1 when the share reaches the data-set threshold.",
        f"# TYPE {METRIC_PREFIX}_detected gauge",
        f'{METRIC_PREFIX}_detected{{model="{m}"}} {int(drift.detected)}',
        f"# HELP {METRIC_PREFIX}_last_run_timestamp_seconds When the drift job last scored.",
        f"# TYPE {METRIC_PREFIX}_last_run_timestamp_seconds gauge",
        f'{METRIC_PREFIX}_last_run_timestamp_seconds{{model="{m}"}} {_number(timestamp)}',
    ]
    return "\n".join(lines) + "\n"
