"""The retraining WorkflowTemplate and CronWorkflow: valid against Argo's pinned CRDs, hardened, and
every step's arguments accepted by the step package's own parser (the container runs exactly that)."""

import re

import pytest

from components.k8s._common import InvalidInput
from components.pipelines import OUTPUTS_DIR, RetrainingArgs
from components.pipelines.workflows import cron_workflow, workflow_template
from mlops_tools.validate.custom_resources import crd_validator
from pipelines.__main__ import parser

ARGS = RetrainingArgs(image="ghcr.io/acme/mlops-pipelines:1.0.0", schedule="0 3 * * 1", timezone="UTC",
                      model_name="churn", features_path="s3://features/churn.parquet", label="churned",
                      entity="customer_id", metric="roc_auc", min_improvement=0.01,
                      mlflow_url="http://mlflow.mlops.svc.cluster.local:5000", mlflow_credentials_secret="mlflow-pipelines")


def _errors(manifest):
    validator = crd_validator(manifest["kind"], manifest["apiVersion"])
    assert validator is not None, manifest["kind"]
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


def test_both_resources_validate_against_the_pinned_argo_crds():
    assert _errors(workflow_template(ARGS)) == []
    assert _errors(cron_workflow(ARGS)) == []


def test_the_validation_sees_a_wrong_field():
    broken = cron_workflow(ARGS)
    broken["spec"]["schedule"] = broken["spec"].pop("schedules")[0]  # the field Argo v4 no longer has
    assert any("schedule" in e for e in _errors(broken))


def _resolve(value, template, workflow_parameters):
    value = re.sub(r"\{\{workflow\.parameters\.([\w-]+)\}\}", lambda m: workflow_parameters[m.group(1)], value)
    return re.sub(r"\{\{inputs\.parameters\.(\w+)\}\}", lambda m: "7" if m.group(1) == "version" else "abc123", value)


def test_every_step_runs_the_package_with_arguments_its_parser_accepts():
    template = workflow_template(ARGS)
    params = {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}
    steps = {t["name"]: t for t in template["spec"]["templates"] if "container" in t}
    assert sorted(steps) == ["evaluate", "promote", "register", "train"]
    for name, step in steps.items():
        argv = [_resolve(a, step, params) for a in step["container"]["args"]]
        parsed = parser().parse_args(argv)
        assert parsed.step == name and parsed.outputs == OUTPUTS_DIR
        for output in step.get("outputs", {}).get("parameters", []):
            assert output["valueFrom"]["path"] == f"{OUTPUTS_DIR}/{output['name']}"
    train = parser().parse_args([_resolve(a, None, params) for a in steps["train"]["container"]["args"]])
    assert (train.features, train.label, train.entity) == ("s3://features/churn.parquet", "churned", "customer_id")
    evaluate = parser().parse_args([_resolve(a, None, params) for a in steps["evaluate"]["container"]["args"]])
    assert (evaluate.metric, evaluate.min_improvement, evaluate.version) == ("roc_auc", 0.01, "7")


def test_dag_promotes_only_on_a_true_verdict_and_passes_outputs_along():
    dag = {t["name"]: t for t in workflow_template(ARGS)["spec"]["templates"][0]["dag"]["tasks"]}
    assert dag["register"]["dependencies"] == ["train"] and dag["promote"]["dependencies"] == ["evaluate"]
    assert dag["promote"]["when"] == "{{tasks.evaluate.outputs.parameters.promote}} == true"
    assert dag["evaluate"]["arguments"]["parameters"] == [{"name": "version", "value": "{{tasks.register.outputs.parameters.version}}"}]


def test_pods_are_hardened_and_credentials_come_from_a_secret():
    spec = workflow_template(ARGS)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] and spec["automountServiceAccountToken"] is False
    for step in (t for t in spec["templates"] if "container" in t):
        container = step["container"]
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]} and context["runAsNonRoot"] is True
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}
        secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
        assert secrets == {"MLFLOW_TRACKING_USERNAME": {"name": "mlflow-pipelines", "key": "username"},
                           "MLFLOW_TRACKING_PASSWORD": {"name": "mlflow-pipelines", "key": "password"}}
        assert not any("PASSWORD" in e["name"] and "value" in e for e in container["env"])


def test_cron_never_overlaps_and_runs_the_template():
    spec = cron_workflow(ARGS)["spec"]
    assert spec["schedules"] == ["0 3 * * 1"] and spec["concurrencyPolicy"] == "Forbid"
    assert spec["workflowSpec"] == {"workflowTemplateRef": {"name": "retraining"}}


@pytest.mark.parametrize("change, words", [
    (dict(image="ghcr.io/acme/mlops-pipelines:latest"), ["pipelines image", "pinned"]),
    (dict(mlflow_url="mlflow:5000"), ["mlflow_url", "mlflow:5000"]),
])
def test_bad_args_are_refused(change, words):
    import dataclasses

    with pytest.raises(InvalidInput) as error:
        workflow_template(dataclasses.replace(ARGS, **change))
    assert all(w in str(error.value) for w in words)
