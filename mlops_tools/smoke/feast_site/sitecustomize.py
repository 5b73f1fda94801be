"""Loaded by the Feast smoke processes only (PYTHONPATH): ``feast serve --metrics`` starts its Prometheus
endpoint on 0.0.0.0:8000, fixed in Feast 0.49 (feature_server.start_server). In a pod that is the
container's own port; on a shared machine the smoke run binds it to 127.0.0.1 on the free port in
``SMOKE_METRICS_PORT`` instead. Nothing else of Feast is changed."""

import os

import prometheus_client

_start_http_server = prometheus_client.start_http_server


def _loopback_metrics(port, addr="0.0.0.0", *args, **kwargs):
    return _start_http_server(int(os.environ.get("SMOKE_METRICS_PORT", port)), "127.0.0.1", *args, **kwargs)


prometheus_client.start_http_server = _loopback_metrics
