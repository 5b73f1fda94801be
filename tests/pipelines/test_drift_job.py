"""The drift CronWorkflow and the Pushgateway: valid against Argo's pinned CRD, hardened, the step's arguments
accepted by the step package's own parser, and network policies that let exactly the drift path through."""

import pytest

from components.k8s import MONITORING_NAMESPACE
from components.k8s._common import InvalidInput
from components.k8s.monitoring import service_monitor
from components.pipelines.drift import (PUSHGATEWAY_PORT, DriftArgs, drift_cron_workflow, pushgateway_manifests,
                                        pushgateway_scrape_target, pushgateway_url)
from components.pipelines.drift_network import drift_policies
from mlops_tools.validate.custom_resources import crd_validator
from pipelines.__main__ import parser
from test_retraining_workflows import ARGS

DRIFT = DriftArgs(recent_path="s3://serving-logs/churn/recent/", schedule="15 * * * *", p_value=0.01, share=0.3)


def _errors(manifest):
    validator = crd_validator(manifest["kind"], manifest["apiVersion"])
    assert validator is not None, manifest["kind"]
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


def test_cron_workflow_validates_and_runs_the_drift_step_hourly():
    cron = drift_cron_workflow(ARGS, DRIFT)
    assert _errors(cron) == []
    assert cron["spec"]["schedules"] == ["15 * * * *"] and cron["spec"]["concurrencyPolicy"] == "Forbid"
    broken = drift_cron_workflow(ARGS, DRIFT)
    broken["spec"]["workflowSpec"]["templates"][0]["container"]["imagePull"] = "Always"  # a typo
    assert any("imagePull" in e for e in _errors(broken))


def test_the_step_parser_accepts_the_rendered_arguments():
    spec = drift_cron_workflow(ARGS, DRIFT)["spec"]["workflowSpec"]
    [template] = spec["templates"]
    argv = [a.replace("{{workflow.parameters.model-name}}", spec["arguments"]["parameters"][0]["value"])
            for a in template["container"]["args"]]
    parsed = parser().parse_args(argv)
    assert (parsed.step, parsed.model_name, parsed.recent) == ("drift", "churn", DRIFT.recent_path)
    assert (parsed.p_value, parsed.share, parsed.pushgateway) == (0.01, 0.3, pushgateway_url("pipelines"))
    assert parsed.output.startswith("/tmp/outputs/")  # the emptyDir: the root file system is read-only


def test_drift_pods_are_hardened_like_the_retraining_steps():
    spec = drift_cron_workflow(ARGS, DRIFT)["spec"]["workflowSpec"]
    container = spec["templates"][0]["container"]
    assert spec["securityContext"]["runAsNonRoot"] and spec["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] and container["resources"]["limits"]
    assert spec["podMetadata"]["labels"]["app.kubernetes.io/name"] == "drift"


@pytest.mark.parametrize("drift, message", [
    (DriftArgs(recent_path="http://x/y.parquet"), "recent_path"),
    (DriftArgs(recent_path="s3://x/", p_value=1.5), "p_value"),
])
def test_bad_drift_args_are_refused_with_the_field(drift, message):
    with pytest.raises(InvalidInput, match=message):
        drift_cron_workflow(ARGS, drift)


def test_pushgateway_is_hardened_and_its_scrape_keeps_pushed_labels():
    account, deployment, service = pushgateway_manifests("pipelines")
    assert account["automountServiceAccountToken"] is False
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False and container["resources"]["limits"]
    assert ":v1.11.1@sha256:" in container["image"]  # the version for people, the digest for the runtime
    assert service["spec"]["type"] == "ClusterIP" and service["spec"]["ports"][0]["name"] == "metrics"
    monitor = service_monitor(pushgateway_scrape_target("pipelines"))
    assert monitor["endpoints"][0]["honorLabels"] is True and monitor["endpoints"][0]["port"] == "metrics"
    with pytest.raises(InvalidInput):
        pushgateway_manifests("pipelines", image="prom/pushgateway:latest")


def test_pushgateway_reachable_only_by_drift_pods_and_monitoring():
    policies = {p["metadata"]["name"]: p["spec"] for p in drift_policies("pipelines")}
    gateway = policies["pushgateway"]
    assert gateway["egress"] == [] and set(gateway["policyTypes"]) == {"Ingress", "Egress"}
    peers = [(rule["from"][0], rule["ports"]) for rule in gateway["ingress"]]
    assert peers == [({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "drift"}}},
                      [{"protocol": "TCP", "port": PUSHGATEWAY_PORT}]),
                     ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}},
                      [{"protocol": "TCP", "port": PUSHGATEWAY_PORT}])]
    steps = policies["drift-steps"]
    assert steps["ingress"] == [] and [r["ports"][0]["port"] for r in steps["egress"]] == [5000, 443, PUSHGATEWAY_PORT]


def test_the_drift_pod_carries_the_clouds_pod_labels():
    """Azure's workload identity is opted into by a pod label: without it the drift pod cannot read an
    abfs:// recentPath as the steps' identity."""
    import dataclasses

    azure = dataclasses.replace(ARGS, pod_labels={"azure.workload.identity/use": "true"})
    labels = drift_cron_workflow(azure, DRIFT)["spec"]["workflowSpec"]["podMetadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true" and labels["app.kubernetes.io/name"] == "drift"
