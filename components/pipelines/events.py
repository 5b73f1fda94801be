"""The drift alert -> retraining trigger (issue 11): Alertmanager's receiver ``retrain`` posts the
``ModelDriftDetected`` notification to an Argo Events webhook ``EventSource`` in the pipelines namespace,
and a ``Sensor`` creates a ``Workflow`` from the ``retraining`` WorkflowTemplate with the alert's ``model``
label as ``model-name``, at most one an hour.

- Argo Events from its pinned chart (``argo-events`` 2.4.22 = Argo Events v1.9.10, values read at that tag
  with ``fetch``); the controller manages only this namespace (``--namespaced``), no validating webhook.
- EventBus ``default``: NATS JetStream (3 replicas, the quorum JetStream needs), the only transport between
  the EventSource and the Sensor; no persistence (a lost event is re-sent by Alertmanager's hourly repeat).
- The Sensor uses the ``k8s`` trigger (create a Workflow object; Argo's controller runs it), so its
  ServiceAccount needs only ``create`` on ``workflows`` here, and it runs no ``argo`` CLI.
- The webhook takes only requests with ``Authorization: Bearer <token>``: the token is generated per stack
  (``pulumi_random``, secret in state), kept in the Secret ``drift-webhook-token`` in the pipelines namespace,
  which the EventSource names in ``authSecret`` (Argo Events v1.9.10 ``WebhookContext.authSecret``: the
  controller mounts the Secret into the EventSource pod, pkg/reconciler/eventsource/resource.go, and the
  route answers 401 to a request without that exact bearer token, pkg/eventsources/common/webhook/webhook.go).
  Alertmanager sends it with ``http_config.authorization.credentials_file``, a file of the monitoring
  stack's mounted ``alertmanager-files`` Secret; the token is in neither config, only in the two Secrets.
- Alertmanager groups by ``alertname, model``: one notification carries one model, so the model is a
  common label (``body.commonLabels.model``). Filter values are Go regular expressions matched anywhere
  (Argo Events' data filter), hence anchored.

The CRDs Argo Events installs are schemaless (``x-kubernetes-preserve-unknown-fields``); the program's
EventBus/EventSource/Sensor are validated offline against Argo Events' own JSON schema at the same tag
(mlops_tools/validate/crd_schemas/SOURCES.md), the Workflow inside the Sensor against Argo's Workflow CRD.
"""

from __future__ import annotations

from typing import Any

from components.k8s import ALERTMANAGER_FILES_DIR, AlertReceiver, AlertRoute
from components.k8s._common import container_security_context, pod_security_context
from components.k8s.monitoring import DRIFT_ALERT
from components.pipelines import TEMPLATE_NAME, RetrainingArgs
from components.pipelines.workflows import API_VERSION, LABELS as RETRAINING_LABELS

EVENTS_CHART = "argo-events"
EVENTS_CHART_VERSION = "2.4.22"
EVENTS_CHART_REPOSITORY = "https://argoproj.github.io/argo-helm"
EVENTS_VERSION = "v1.9.10"  # the chart's appVersion, pinned explicitly
JETSTREAM_VERSION = "2.10.10"  # the chart's default JetStream version entry (images pinned below)
EVENTS_UID = 9731  # Argo Events images run as any non-root user; one the others do not use
EVENT_BUS = "default"
EVENT_SOURCE = "drift-alerts"
EVENT_NAME = "drift"
WEBHOOK_PORT = 12000
WEBHOOK_ENDPOINT = "/drift"
SENSOR = "drift-retraining"
SENSOR_SERVICE_ACCOUNT = "drift-sensor"
SOURCE_SERVICE_ACCOUNT = "drift-alerts"
RETRAIN_RECEIVER = "retrain"
# The bearer token: a Secret in the pipelines namespace (the EventSource's authSecret) and a file of the
# monitoring stack's Alertmanager Secret (ALERTMANAGER_FILES_DIR) with the same value.
WEBHOOK_TOKEN_SECRET = "drift-webhook-token"
WEBHOOK_TOKEN_KEY = "token"
WEBHOOK_TOKEN_FILE = "drift-webhook-token"
JETSTREAM_CLIENT_PORT, JETSTREAM_CLUSTER_PORT, JETSTREAM_METRICS_PORT = 4222, 6222, 7777
PART_OF = {"app.kubernetes.io/part-of": "mlops-platform"}
DEPENDENCY = "drift-alert"


def _budget(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def webhook_url(namespace: str) -> str:
    """The EventSource's Service (Argo Events names it ``<name>-eventsource-svc``)."""
    return f"http://{EVENT_SOURCE}-eventsource-svc.{namespace}.svc.cluster.local:{WEBHOOK_PORT}{WEBHOOK_ENDPOINT}"


def events_values(namespace: str) -> dict[str, Any]:
    hardened = container_security_context(uid=EVENTS_UID)
    jetstream = {"version": JETSTREAM_VERSION, "natsImage": f"nats:{JETSTREAM_VERSION}",
                 "metricsExporterImage": "natsio/prometheus-nats-exporter:0.14.0",
                 "configReloaderImage": "natsio/nats-server-config-reloader:0.14.0", "startCommand": "/nats-server"}
    return {
        "crds": {"install": True, "keep": True},
        "global": {"image": {"tag": EVENTS_VERSION, "imagePullPolicy": "IfNotPresent"},
                   "securityContext": pod_security_context(EVENTS_UID)},
        # One pinned JetStream version instead of the chart's list (which includes "latest").
        "configs": {"jetstream": {"versions": [jetstream]}},
        "controller": {
            "rbac": {"enabled": True, "namespaced": True, "managedNamespace": namespace},
            "replicas": 1, "containerSecurityContext": hardened,
            "resources": _budget("50m", "64Mi", "500m", "256Mi"),
        },
        "webhook": {"enabled": False},
    }


def event_bus(namespace: str) -> dict[str, Any]:
    container = {"resources": _budget("100m", "128Mi", "500m", "512Mi"),
                 "securityContext": container_security_context(uid=EVENTS_UID)}
    sidecar = {"resources": _budget("10m", "32Mi", "100m", "64Mi"),
               "securityContext": container_security_context(uid=EVENTS_UID)}
    return {"apiVersion": API_VERSION, "kind": "EventBus",
            "metadata": {"name": EVENT_BUS, "namespace": namespace, "labels": dict(PART_OF)},
            "spec": {"jetstream": {"version": JETSTREAM_VERSION, "replicas": 3,
                                   "securityContext": pod_security_context(EVENTS_UID),
                                   "containerTemplate": container, "reloaderContainerTemplate": sidecar,
                                   "metricsContainerTemplate": sidecar}}}


def _pod_template(service_account: str, cpu_limit: str = "200m") -> dict[str, Any]:
    """EventSource/Sensor pod: non-root, read-only root with a /tmp emptyDir, limits."""
    return {"serviceAccountName": service_account, "securityContext": pod_security_context(EVENTS_UID),
            "container": {"resources": _budget("20m", "64Mi", cpu_limit, "256Mi"),
                          "securityContext": container_security_context(uid=EVENTS_UID),
                          "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]},
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]}


def event_source(namespace: str) -> dict[str, Any]:
    """Webhook on port 12000, path /drift, POST only, bearer token required, behind a ClusterIP Service."""
    return {"apiVersion": API_VERSION, "kind": "EventSource",
            "metadata": {"name": EVENT_SOURCE, "namespace": namespace, "labels": dict(PART_OF)},
            "spec": {"eventBusName": EVENT_BUS, "replicas": 1,
                     "template": _pod_template(SOURCE_SERVICE_ACCOUNT),
                     "service": {"ports": [{"name": "webhook", "port": WEBHOOK_PORT,
                                            "targetPort": WEBHOOK_PORT, "protocol": "TCP"}]},
                     "webhook": {EVENT_NAME: {"endpoint": WEBHOOK_ENDPOINT, "method": "POST",
                                              "port": str(WEBHOOK_PORT), "url": webhook_url(namespace).rsplit("/", 1)[0],
                                              "maxPayloadSize": 1048576,
                                              "authSecret": {"name": WEBHOOK_TOKEN_SECRET, "key": WEBHOOK_TOKEN_KEY}}}}}


def sensor_filters() -> list[dict[str, Any]]:
    """Only a firing ModelDriftDetected notification starts a retraining (resolved ones are not sent, and
    another alert routed here by mistake is dropped)."""
    return [{"path": "body.status", "type": "string", "value": ["^firing$"]},
            {"path": "body.commonLabels.alertname", "type": "string", "value": [f"^{DRIFT_ALERT}$"]},
            {"path": "body.commonLabels.model", "type": "string", "value": [r"^\S+$"]}]


def retraining_workflow(pipeline: RetrainingArgs) -> dict[str, Any]:
    """What the Sensor creates: a run of the retraining template; ``model-name`` is replaced per event."""
    return {"apiVersion": API_VERSION, "kind": "Workflow",
            "metadata": {"generateName": f"{TEMPLATE_NAME}-drift-", "namespace": pipeline.namespace,
                         "labels": {**RETRAINING_LABELS, "mlops.dev/trigger": "drift"}},
            "spec": {"workflowTemplateRef": {"name": TEMPLATE_NAME},
                     "arguments": {"parameters": [{"name": "model-name", "value": pipeline.model_name}]}}}


MODEL_PARAMETER_DEST = "spec.arguments.parameters.0.value"


def sensor(pipeline: RetrainingArgs) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "Sensor",
            "metadata": {"name": SENSOR, "namespace": pipeline.namespace, "labels": dict(PART_OF)},
            "spec": {
                "eventBusName": EVENT_BUS, "replicas": 1,
                "template": _pod_template(SENSOR_SERVICE_ACCOUNT, cpu_limit="500m"),
                "dependencies": [{"name": DEPENDENCY, "eventSourceName": EVENT_SOURCE, "eventName": EVENT_NAME,
                                  "filters": {"data": sensor_filters()}}],
                "triggers": [{
                    "template": {"name": "retrain", "k8s": {
                        "operation": "create",
                        "source": {"resource": retraining_workflow(pipeline)},
                        "parameters": [{"src": {"dependencyName": DEPENDENCY, "dataKey": "body.commonLabels.model"},
                                        "dest": MODEL_PARAMETER_DEST}]}},
                    # One retraining an hour whatever Alertmanager sends (it repeats hourly while drift lasts).
                    "rateLimit": {"unit": "Hour", "requestsPerUnit": 1},
                    "retryStrategy": {"steps": 3, "duration": "10s", "factor": 2},
                }],
            }}


def sensor_rbac(namespace: str) -> list[dict[str, Any]]:
    """The Sensor may create Workflows in this namespace, nothing else; the EventSource gets no token."""
    meta = {"namespace": namespace, "labels": dict(PART_OF)}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SOURCE_SERVICE_ACCOUNT, **meta},
         "automountServiceAccountToken": False},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SENSOR_SERVICE_ACCOUNT, **meta}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": SENSOR, **meta},
         "rules": [{"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": SENSOR, **meta},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SENSOR},
         "subjects": [{"kind": "ServiceAccount", "name": SENSOR_SERVICE_ACCOUNT, "namespace": namespace}]},
    ]


def alert_receiver(namespace: str) -> AlertReceiver:
    """What the stack builder adds to ``MonitoringStackArgs.alert_receivers``: no resolved notifications
    (a resolved drift starts nothing), every alert of the group in the body, the bearer token read from the
    mounted file (``alertmanager_files()``) at every request."""
    return AlertReceiver(RETRAIN_RECEIVER, {"webhook_configs": [
        {"url": webhook_url(namespace), "send_resolved": False, "max_alerts": 0,
         "http_config": {"authorization": {"type": "Bearer",
                                           "credentials_file": f"{ALERTMANAGER_FILES_DIR}/{WEBHOOK_TOKEN_FILE}"}}}]})


def token_secret(namespace: str) -> dict[str, Any]:
    """The EventSource's ``authSecret`` (without its data: the component fills ``stringData`` with the
    secret token)."""
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": WEBHOOK_TOKEN_SECRET, "namespace": namespace, "labels": dict(PART_OF)}}


def alert_route() -> AlertRoute:
    """Drift alerts to ``retrain``, one group per model, repeated hourly while the drift lasts (the Sensor's
    rate limit drops the repeats within an hour); ``continue`` so people's routes still see the alert."""
    return AlertRoute(receiver=RETRAIN_RECEIVER, matchers=(f'alertname="{DRIFT_ALERT}"',),
                      group_by=("alertname", "model"), repeat_interval="1h", continue_matching=True)
