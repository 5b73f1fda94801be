"""The drift alert -> retraining trigger: EventBus/EventSource/Sensor valid against Argo Events' pinned
schema, the Workflow the Sensor creates valid against Argo's Workflow CRD, Alertmanager's receiver pointed
at the EventSource's Service, least-privilege RBAC, and network policies that admit only monitoring."""

from components.k8s import MONITORING_NAMESPACE
from components.k8s.monitoring import DRIFT_ALERT
from components.pipelines import events
from components.pipelines.drift_network import trigger_policies
from mlops_tools.validate.custom_resources import crd_validator
from test_retraining_workflows import ARGS


def _errors(manifest):
    validator = crd_validator(manifest["kind"], manifest["apiVersion"])
    assert validator is not None, manifest["kind"]
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


def test_event_resources_validate_against_the_pinned_argo_events_schema():
    for manifest in (events.event_bus("pipelines"), events.event_source("pipelines"), events.sensor(ARGS)):
        assert _errors(manifest) == [], manifest["kind"]


def test_the_schema_sees_a_wrong_field_and_type():
    sensor = events.sensor(ARGS)
    sensor["spec"]["triggers"][0]["rateLimit"]["requestsPerUnit"] = "one"
    sensor["spec"]["dependencies"][0]["filter"] = {}  # the field is "filters"
    errors = _errors(sensor)
    assert any("requestsPerUnit" in e for e in errors) and any("'filter'" in e for e in errors), errors


def test_the_created_workflow_runs_the_retraining_template_with_the_model_parameter():
    workflow = events.retraining_workflow(ARGS)
    assert _errors(workflow) == []
    [trigger] = events.sensor(ARGS)["spec"]["triggers"]
    assert trigger["template"]["k8s"]["source"]["resource"] == workflow
    assert trigger["template"]["k8s"]["operation"] == "create"
    [parameter] = trigger["template"]["k8s"]["parameters"]
    assert parameter["dest"] == "spec.arguments.parameters.0.value"
    assert workflow["spec"]["arguments"]["parameters"][0]["name"] == "model-name"
    assert parameter["src"]["dataKey"] == "body.commonLabels.model"
    assert trigger["rateLimit"] == {"unit": "Hour", "requestsPerUnit": 1}


def test_alertmanager_posts_drift_groups_per_model_to_the_event_source_service():
    receiver, route = events.alert_receiver("pipelines"), events.alert_route()
    [hook] = receiver.config["webhook_configs"]
    source = events.event_source("pipelines")
    endpoint = source["spec"]["webhook"]["drift"]
    assert hook["url"] == (f"http://{source['metadata']['name']}-eventsource-svc.pipelines.svc.cluster.local:"
                           f"{endpoint['port']}{endpoint['endpoint']}")
    assert source["spec"]["service"]["ports"][0]["port"] == int(endpoint["port"])
    assert hook["send_resolved"] is False
    assert route.receiver == receiver.name and route.matchers == (f'alertname="{DRIFT_ALERT}"',)
    assert "model" in route.group_by  # one model per notification: the Sensor reads commonLabels.model


def test_sensor_may_only_create_workflows_and_the_source_has_no_token():
    manifests = {(m["kind"], m["metadata"]["name"]): m for m in events.sensor_rbac("pipelines")}
    assert manifests[("Role", events.SENSOR)]["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create"]}]
    assert manifests[("ServiceAccount", events.SOURCE_SERVICE_ACCOUNT)]["automountServiceAccountToken"] is False
    assert events.sensor(ARGS)["spec"]["template"]["serviceAccountName"] == events.SENSOR_SERVICE_ACCOUNT


def test_event_pods_are_hardened():
    for manifest in (events.event_source("pipelines"), events.sensor(ARGS)):
        template = manifest["spec"]["template"]
        assert template["securityContext"]["runAsNonRoot"]
        assert template["container"]["securityContext"]["readOnlyRootFilesystem"]
        assert template["container"]["resources"]["limits"]
    bus = events.event_bus("pipelines")["spec"]["jetstream"]
    for key in ("containerTemplate", "reloaderContainerTemplate", "metricsContainerTemplate"):
        assert bus[key]["securityContext"]["allowPrivilegeEscalation"] is False and bus[key]["resources"]["limits"]


def test_chart_is_pinned_and_namespaced():
    values = events.events_values("pipelines")
    assert events.EVENTS_CHART_VERSION == "2.4.22" and values["global"]["image"]["tag"] == "v1.9.10"
    assert values["controller"]["rbac"] == {"enabled": True, "namespaced": True, "managedNamespace": "pipelines"}
    assert [v["version"] for v in values["configs"]["jetstream"]["versions"]] == [events.JETSTREAM_VERSION]
    assert values["webhook"]["enabled"] is False


def test_only_monitoring_reaches_the_webhook():
    policies = {p["metadata"]["name"]: p["spec"] for p in trigger_policies("pipelines")}
    source = policies["drift-alerts-source"]
    assert source["ingress"] == [{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}], "ports": [{"protocol": "TCP", "port": events.WEBHOOK_PORT}]}]
    assert policies["drift-retraining-sensor"]["ingress"] == []
    assert source["podSelector"]["matchLabels"] == {"eventsource-name": events.EVENT_SOURCE}


def test_webhook_requires_the_bearer_token_from_its_secret():
    """The EventSource names the token Secret in ``authSecret`` (Argo Events v1.9.10 WebhookContext: a
    SecretKeySelector; its webhook route answers 401 without ``Authorization: Bearer <that value>``), and
    Alertmanager sends the same token from its mounted file. Argo Events' server is Go and cannot run here:
    the wiring is checked against Argo Events' own schema, which also refuses a malformed selector."""
    source = events.event_source("pipelines")
    context = source["spec"]["webhook"][events.EVENT_NAME]
    assert context["authSecret"] == {"name": events.WEBHOOK_TOKEN_SECRET, "key": events.WEBHOOK_TOKEN_KEY}
    secret = events.token_secret("pipelines")
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (events.WEBHOOK_TOKEN_SECRET, "pipelines")
    assert _errors(source) == []
    broken = events.event_source("pipelines")
    broken["spec"]["webhook"][events.EVENT_NAME]["authSecret"] = "drift-webhook-token"  # not a selector
    assert any("authSecret" in e for e in _errors(broken)), _errors(broken)
    [hook] = events.alert_receiver("pipelines").config["webhook_configs"]
    assert hook["http_config"]["authorization"]["type"] == "Bearer"
    assert hook["http_config"]["authorization"]["credentials_file"].endswith("/" + events.WEBHOOK_TOKEN_FILE)
