"""DriftMonitoring under the mock engine: the drift job, the Pushgateway, the trigger after its release,
policy-clean on the kubernetes pack; without ``retrain`` no Argo Events at all."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_helpers import preview_components  # noqa: E402

from components.pipelines.drift import DriftArgs  # noqa: E402
from components.pipelines.drift_component import DriftMonitoring, DriftMonitoringArgs, monitoring_inputs  # noqa: E402
from test_component import DIGEST_IMAGE  # noqa: E402
from test_retraining_workflows import ARGS  # noqa: E402

import dataclasses  # noqa: E402

PIPELINE = dataclasses.replace(ARGS, image=DIGEST_IMAGE)


def _preview(retrain: bool):
    args = DriftMonitoringArgs(PIPELINE, DriftArgs(recent_path="s3://serving-logs/churn/", retrain=retrain))
    return preview_components(lambda opts: DriftMonitoring("drift", args, opts=opts))


@pytest.fixture(scope="module")
def result():
    return _preview(True)


def _kinds(result):
    return sorted(r["type"].rsplit(":", 1)[-1] for r in result.resources if r["type"].startswith("kubernetes:")
                  and r["custom"] and "Provider" not in r["type"] and not r["type"].startswith("kubernetes:helm"))


def test_component_type_and_resources(result):
    assert result.by_type("mlops:pipelines:DriftMonitoring")
    for kind in ("CronWorkflow", "Deployment", "Service", "EventBus", "EventSource", "Sensor", "Role", "RoleBinding"):
        assert kind in _kinds(result), kind


def test_event_resources_wait_for_the_argo_events_release(result):
    [release] = result.by_type("kubernetes:helm.sh/v3:Release")
    assert release["inputs"]["chart"] == "argo-events" and release["inputs"]["version"] == "2.4.22"
    for kind in ("EventBus", "EventSource", "Sensor"):
        [resource] = result.by_type(f"kubernetes:argoproj.io/v1alpha1:{kind}")
        assert release["urn"] in resource["dependencies"], kind


def test_without_retrain_no_argo_events_and_no_receiver():
    quiet = _preview(False)
    assert not quiet.by_type("kubernetes:helm.sh/v3:Release") and not quiet.by_type("kubernetes:argoproj.io/v1alpha1:Sensor")
    targets, receivers, routes, files = monitoring_inputs(DriftMonitoringArgs(PIPELINE, DriftArgs("s3://x/", retrain=False)))
    assert [t.name for t in targets] == ["pushgateway"] and receivers == [] and routes == [] and files == {}
    assert not quiet.by_type("random:index/randomPassword:RandomPassword")


def test_webhook_token_is_generated_kept_secret_and_named_by_the_event_source(result):
    """One generated token in a Secret of the pipelines namespace that the EventSource's authSecret names;
    the plan shows the Secret's data only as [secret], and the EventSource waits for the Secret."""
    from mlops_tools.engine.plan import build_plan
    from components.pipelines import events

    [token] = result.by_type("random:index/randomPassword:RandomPassword")
    assert token["inputs"]["length"] >= 32 and token["inputs"]["special"] is False
    [secret] = [r for r in result.by_type("kubernetes:core/v1:Secret")
                if r["inputs"]["metadata"]["name"] == events.WEBHOOK_TOKEN_SECRET]
    [source] = result.by_type("kubernetes:argoproj.io/v1alpha1:EventSource")
    assert source["inputs"]["spec"]["webhook"]["drift"]["authSecret"] == {
        "name": secret["inputs"]["metadata"]["name"], "key": events.WEBHOOK_TOKEN_KEY}
    assert secret["inputs"]["metadata"]["namespace"] == source["inputs"]["metadata"]["namespace"]
    assert secret["urn"] in source["dependencies"]
    plan = build_plan(result, "aws")
    [planned] = [r for r in plan["resources"] if r["urn"] == secret["urn"]]
    assert planned["inputs"]["stringData"] == "[secret]", planned["inputs"]


def test_retrain_receiver_needs_the_token_and_gets_it_as_a_secret_file():
    args = DriftMonitoringArgs(PIPELINE, DriftArgs("s3://x/", retrain=True))
    with pytest.raises(ValueError, match="bearer token is required"):
        monitoring_inputs(args)
    _, [receiver], _, files = monitoring_inputs(args, "t0ken")
    [hook] = receiver.config["webhook_configs"]
    from components.k8s import ALERTMANAGER_FILES_DIR
    from components.pipelines import events

    assert hook["http_config"]["authorization"] == {
        "type": "Bearer", "credentials_file": f"{ALERTMANAGER_FILES_DIR}/{events.WEBHOOK_TOKEN_FILE}"}
    assert list(files) == [events.WEBHOOK_TOKEN_FILE]


def test_kubernetes_pack_finds_no_violation(result):
    from mlops_tools.policy.runner import run_policy_packs

    root = Path(__file__).resolve().parents[2]
    _, violations = run_policy_packs(result.resources, [root / "policies" / "kubernetes"])
    # Not even the advisory digest rule: the Pushgateway image is pinned by digest (and the webhook has auth).
    assert violations == [], violations


def _validate(plan, tmp_path):
    from mlops_tools.validate.manifests import render

    return render(plan, "1.35", tmp_path / "out")


def test_every_object_validates_including_the_workflow_the_sensor_creates(result, tmp_path):
    from mlops_tools.engine.plan import build_plan

    plan = build_plan(result, "aws")
    report = _validate(plan, tmp_path)
    assert report.invalid == [] and "sensor-pipelines-drift-retraining.yaml" in report.validated
    assert report.without_schema == []
    [sensor] = [r for r in plan["resources"] if r["type"].endswith(":Sensor")]
    sensor["inputs"]["spec"]["triggers"][0]["template"]["k8s"]["source"]["resource"]["spec"]["workflowTemplateRf"] = {}
    report = _validate(plan, tmp_path)
    assert any("spec.triggers[0].template.k8s.source.resource" in line and "workflowTemplateRf" in line
               for line in report.invalid), report.invalid


def test_with_drift_keeps_the_stacks_own_alertmanager_files_beside_the_token():
    """Azure/GCP stacks already mount an SMTP password file: the token file joins it, neither is lost."""
    from types import SimpleNamespace

    from components.k8s import MonitoringStackArgs
    from components.pipelines import events
    from stacks.pipelines import with_drift

    monitoring = MonitoringStackArgs(environment="dev", metrics_retention_days=7, private_network_cidrs=["10.0.0.0/16"],
                                     alertmanager_files={"smtp-password": "s3cret"})
    drift = SimpleNamespace(args=DriftMonitoringArgs(PIPELINE, DriftArgs("s3://x/", retrain=True)), webhook_token="t0ken")
    merged = with_drift(monitoring, drift)
    assert merged.alertmanager_files == {"smtp-password": "s3cret", events.WEBHOOK_TOKEN_FILE: "t0ken"}
    assert [r.name for r in merged.alert_receivers] == [events.RETRAIN_RECEIVER]
