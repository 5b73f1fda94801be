"""NetworkPolicies of the drift job and the retraining trigger, on top of the pipelines namespace's default
deny and DNS (network.py): each piece reaches exactly what it needs.

- drift pods (``app.kubernetes.io/name: drift``): MLflow on its port, HTTPS (443: object store, identity
  endpoints, and the Kubernetes API for Argo's executor), the Pushgateway on 9091. No ingress.
- Pushgateway: pushed to by drift pods, scraped from the monitoring namespace, both on 9091; no egress.
- EventSource ``drift-alerts``: Alertmanager (monitoring namespace) on the webhook port only; out to the
  EventBus's client port.
- Sensor ``drift-retraining``: out to the EventBus and the Kubernetes API (443: create the Workflow); no ingress.
- EventBus (JetStream): clients (EventSource, Sensor) on 4222, its peers on 6222 (routes) and 4222,
  metrics from monitoring on 7777; out to its peers.
- Argo Events controller: the Kubernetes API (443); no ingress (no webhook, metrics off).
"""

from __future__ import annotations

from typing import Any

from components.k8s import MONITORING_NAMESPACE
from components.k8s._common import from_namespaces, tcp_ports
from components.pipelines import NAMESPACE
from components.pipelines.drift import DRIFT_LABELS, PUSHGATEWAY_NAME, PUSHGATEWAY_PORT
from components.pipelines.events import (EVENT_BUS, EVENT_SOURCE, JETSTREAM_CLIENT_PORT, JETSTREAM_CLUSTER_PORT,
                                         JETSTREAM_METRICS_PORT, SENSOR, WEBHOOK_PORT)
from components.pipelines.network import _HTTPS_OUT, _policy, network_policies as _pipeline_policies

NAME = "app.kubernetes.io/name"
DRIFT_POD = {NAME: DRIFT_LABELS[NAME]}
PUSHGATEWAY_POD = {NAME: PUSHGATEWAY_NAME}
# Labels Argo Events v1.9.10 puts on the pods it creates (pkg/apis/events/v1alpha1/const.go, eventbus installer).
EVENT_SOURCE_POD = {"eventsource-name": EVENT_SOURCE}
SENSOR_POD = {"sensor-name": SENSOR}
EVENT_BUS_POD = {"eventbus-name": EVENT_BUS, "controller": "eventbus-controller"}
EVENTS_CONTROLLER_POD = {NAME: "argo-events-controller-manager"}  # chart 2.4.22: <nameOverride>-<controller.name>


def _pods(labels: dict[str, str], ports: list[int]) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": dict(labels)}, "ports": tcp_ports(ports)}


def _to(labels: dict[str, str], ports: list[int]) -> dict[str, Any]:
    return {"to": [{"podSelector": {"matchLabels": dict(labels)}}], "ports": tcp_ports(ports)}


def _from(labels: dict[str, str], ports: list[int]) -> dict[str, Any]:
    return {"from": [{"podSelector": {"matchLabels": dict(labels)}}], "ports": tcp_ports(ports)}


def _mlflow_egress(namespace: str) -> dict[str, Any]:
    """The retraining steps' MLflow rule (network.py), so both jobs reach the same server the same way."""
    steps = next(p for p in _pipeline_policies(namespace) if p["metadata"]["name"] == "retraining-steps")
    return steps["spec"]["egress"][0]


def drift_policies(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    monitoring = {"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports([PUSHGATEWAY_PORT])}
    return [
        _policy("drift-steps", DRIFT_POD, [], [_mlflow_egress(namespace), _HTTPS_OUT,
                                               _to(PUSHGATEWAY_POD, [PUSHGATEWAY_PORT])], namespace),
        _policy("pushgateway", PUSHGATEWAY_POD, [_from(DRIFT_POD, [PUSHGATEWAY_PORT]), monitoring], [], namespace),
    ]


def trigger_policies(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    alertmanager = {"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports([WEBHOOK_PORT])}
    bus_clients = {"from": [{"podSelector": {"matchLabels": dict(EVENT_SOURCE_POD)}},
                            {"podSelector": {"matchLabels": dict(SENSOR_POD)}}],
                   "ports": tcp_ports([JETSTREAM_CLIENT_PORT])}
    scraped = {"from": from_namespaces([MONITORING_NAMESPACE]), "ports": tcp_ports([JETSTREAM_METRICS_PORT])}
    peers = [JETSTREAM_CLIENT_PORT, JETSTREAM_CLUSTER_PORT]
    return [
        _policy("drift-alerts-source", EVENT_SOURCE_POD, [alertmanager], [_to(EVENT_BUS_POD, [JETSTREAM_CLIENT_PORT])],
                namespace),
        _policy("drift-retraining-sensor", SENSOR_POD, [], [_to(EVENT_BUS_POD, [JETSTREAM_CLIENT_PORT]), _HTTPS_OUT],
                namespace),
        _policy("event-bus", EVENT_BUS_POD, [bus_clients, _from(EVENT_BUS_POD, peers), scraped],
                [_to(EVENT_BUS_POD, peers)], namespace),
        _policy("argo-events-controller", EVENTS_CONTROLLER_POD, [], [_HTTPS_OUT], namespace),
    ]
