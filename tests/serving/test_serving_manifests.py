"""The serving custom resources validate against their pinned CRDs (KServe v0.20.0, Knative Operator v1.21.1,
prometheus-operator v0.85.0, Argo v4.0.6), carry the hardening the platform requires, and the canary rollout's
steps are ones the step package accepts; the retraining DAG with the canary task still validates."""

import copy

import pytest
import yaml

from components.k8s._common import InvalidInput
from components.pipelines import RetrainingArgs
from components.pipelines.workflows import workflow_template as retraining_template
from components.serving import ModelStorage, RolloutArgs, ServingArgs
from components.serving import inference, kserve, network, rollout
from mlops_tools.validate.custom_resources import crd_validator
from pipelines.__main__ import parser

ARGS = ServingArgs(runtime_image="registry.example.com/mlserver:1.7.1-mlflow3.10.1", inference_service="churn",
                   model_name="churn", storage_uri="s3://art/mlflow/1/models/m-1/artifacts", model_version="1",
                   storage=ModelStorage("s3", "us-east-1"), identity_pod_labels={"azure.workload.identity/use": "true"},
                   private_network_cidrs=("10.40.0.0/16",))
ROLLOUT = RolloutArgs(image="registry.example.com/mlops-pipelines:1.0.0",
                      mlflow_url="http://mlflow.mlops.svc.cluster.local:5000", mlflow_credentials_secret="mlflow-pipelines",
                      prometheus_url="http://kps-prometheus.monitoring.svc.cluster.local:9090")
RETRAINING = RetrainingArgs(image=ROLLOUT.image, schedule="0 3 * * 1", timezone="UTC", model_name="churn",
                            features_path="s3://features/churn.parquet", label="churned", entity="customer_id",
                            metric="roc_auc", min_improvement=0.0, mlflow_url=ROLLOUT.mlflow_url,
                            mlflow_credentials_secret="mlflow-pipelines")


def _errors(manifest):
    validator = crd_validator(manifest["kind"], manifest["apiVersion"])
    assert validator is not None, manifest["kind"]
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


@pytest.mark.parametrize("render", [
    lambda: inference.inference_service(ARGS), lambda: inference.serving_runtime(ARGS), lambda: inference.pod_monitor(ARGS),
    lambda: kserve.knative_serving(), lambda: rollout.workflow_template(ARGS, ROLLOUT, "s3://art/mlflow"),
])
def test_every_custom_resource_validates_against_its_pinned_crd(render):
    assert _errors(render()) == []


def test_the_validation_sees_a_wrong_field():
    broken = inference.inference_service(ARGS)
    broken["spec"]["predictor"]["model"]["storageURI"] = broken["spec"]["predictor"]["model"].pop("storageUri")
    assert any("storageURI" in e for e in _errors(broken))
    broken = inference.pod_monitor(ARGS)
    broken["spec"]["podMetricsEndpoints"][0]["portNumber"] = "metrics"
    assert any("portNumber" in e for e in _errors(broken))


def test_retraining_with_the_canary_task_validates_and_passes_what_the_rollout_takes():
    template = retraining_template(RETRAINING)
    (dag,) = [t for t in template["spec"]["templates"] if "dag" in t]
    task = rollout.retraining_canary_task()
    dag["dag"]["tasks"].append(task)
    assert _errors(template) == []
    entry = [t for t in rollout.workflow_template(ARGS, ROLLOUT, "s3://art/mlflow")["spec"]["templates"]
             if t["name"] == rollout.ENTRYPOINT][0]
    assert {p["name"] for p in task["arguments"]["parameters"]} == {p["name"] for p in entry["inputs"]["parameters"]}
    promote = [t for t in dag["dag"]["tasks"] if t["name"] == "promote"][0]
    assert task["when"] == promote["when"] and task["dependencies"] == ["promote"]


def test_rollout_steps_parse_with_the_step_packages_parser_and_patch_the_isvc():
    template = rollout.workflow_template(ARGS, ROLLOUT, "s3://art/mlflow")
    steps = {t["name"]: t for t in template["spec"]["templates"]}
    for name in ("target", "analyze"):
        argv = [a.replace("{{inputs.parameters.version}}", "3").replace("{{inputs.parameters.model-name}}", "churn")
                for a in steps[name]["container"]["args"]]
        parsed = parser().parse_args(argv)
        assert parsed.step == ("target" if name == "target" else "canary")
    analyze = parser().parse_args([a.replace("{{inputs.parameters.version}}", "3").replace(
        "{{inputs.parameters.model-name}}", "churn") for a in steps["analyze"]["container"]["args"]])
    assert (analyze.service, analyze.max_error_ratio, analyze.min_requests, analyze.analysis_seconds) == ("churn", 0.01, 100, 600)
    deploy = yaml.safe_load(steps["deploy"]["resource"]["manifest"].replace("{{inputs.parameters.version}}", "3")
                            .replace("{{inputs.parameters.storage_uri}}", "s3://x"))
    assert deploy["spec"]["predictor"] == {"canaryTrafficPercent": 10, "labels": {"mlops.dev/model-version": "3"},
                                           "model": {"storageUri": "s3://x"}}
    finish = yaml.safe_load(steps["finish"]["resource"]["manifest"].replace("{{inputs.parameters.traffic_percent}}", "0"))
    assert finish["spec"]["predictor"] == {"canaryTrafficPercent": 0} and finish["metadata"]["name"] == "churn"
    assert template["spec"]["podMetadata"]["labels"]["app.kubernetes.io/name"] == "canary-rollout"


def test_the_rollout_role_gets_and_patches_only_this_inference_service_and_may_create_the_first():
    role, binding = rollout.rbac(ARGS, ROLLOUT)
    assert role["rules"] == [{"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"],
                              "resourceNames": ["churn"], "verbs": ["get", "patch"]},
                             {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"], "verbs": ["create"]}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "pipeline-steps", "namespace": "pipelines"}]


def test_model_server_is_hardened_and_scales_to_zero():
    predictor = inference.inference_service(ARGS)["spec"]["predictor"]
    context = predictor["model"]["securityContext"]
    assert context["runAsNonRoot"] and not context["allowPrivilegeEscalation"] and context["readOnlyRootFilesystem"]
    assert context["capabilities"] == {"drop": ["ALL"]} and predictor["securityContext"]["seccompProfile"]
    assert predictor["model"]["resources"]["limits"] and predictor["minReplicas"] == 0
    assert predictor["labels"] == {"mlops.dev/model-version": "1", "azure.workload.identity/use": "true"}
    runtime = inference.serving_runtime(ARGS)["spec"]["containers"][0]
    assert runtime["securityContext"]["readOnlyRootFilesystem"] and runtime["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert len(runtime["ports"]) == 1  # Knative allows one declared port; metrics are scraped by number


@pytest.mark.parametrize("change, words", [
    ({"runtime_image": "registry.example.com/mlserver:latest"}, ["serving runtime"]),
    ({"storage_uri": "gs://art/m"}, ["s3://"]),
    ({"min_replicas": 4, "max_replicas": 3}, ["minReplicas 4"]),
])
def test_bad_args_are_refused_before_anything_is_registered(change, words):
    args = ServingArgs(**{**ARGS.__dict__, **change})
    with pytest.raises(InvalidInput) as caught:
        inference.serving_runtime(args), inference.inference_service(args)
    assert all(w in str(caught.value) for w in words)


def test_operator_namespaces_are_default_deny_with_exact_webhook_ingress():
    policies = network.operator_policies(["10.40.0.0/16"])
    for ns, ports in kserve.WEBHOOK_PORTS.items():
        mine = {p["metadata"]["name"]: p["spec"] for p in policies if p["metadata"]["namespace"] == ns}
        assert mine["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
        webhook = mine[ns]["ingress"][0]
        assert webhook["from"] == [{"ipBlock": {"cidr": "10.40.0.0/16"}}] and [p["port"] for p in webhook["ports"]] == ports


def test_only_the_rollout_pods_may_query_prometheus_from_pipelines():
    egress, ingress = network.rollout_policies("pipelines")
    ports = sorted(p["port"] for rule in egress["spec"]["egress"] for p in rule["ports"])
    assert ports == [443, 5000, 9090] and egress["spec"]["ingress"] == []
    (rule,) = ingress["spec"]["ingress"]
    assert rule["from"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "canary-rollout"}
    assert ingress["metadata"]["namespace"] == "monitoring" and ingress["spec"]["policyTypes"] == ["Ingress"]


def test_s3_storage_annotations_name_the_regional_endpoint():
    assert ModelStorage("s3", "eu-west-1").service_account_annotations()["serving.kserve.io/s3-endpoint"] == \
        "s3.eu-west-1.amazonaws.com"
    assert ModelStorage("gcs").service_account_annotations() == {}


FIRST = ServingArgs(**{**ARGS.__dict__, "storage_uri": None})


def _resolved(manifest: str, version: str = "7", uri: str = "s3://art/mlflow/1/models/m-7/artifacts") -> dict:
    return yaml.safe_load(manifest.replace("{{inputs.parameters.version}}", version)
                          .replace("{{inputs.parameters.storage_uri}}", uri))


def test_the_rollout_creates_the_first_inference_service_from_the_programs_rendering():
    """Without a first version in the config the rollout's ``create`` step makes the InferenceService: the
    same object the program would render for that version (valid against KServe's CRD), no owner reference
    (deleting the Workflow keeps it), and the DAG goes on to ``deploy`` when it exists already."""
    template = rollout.workflow_template(FIRST, ROLLOUT, "s3://art/mlflow")
    assert _errors(template) == []
    steps = {t["name"]: t for t in template["spec"]["templates"]}
    create = steps["create"]["resource"]
    assert create["action"] == "create" and create["setOwnerReference"] is False
    created = _resolved(create["manifest"])
    uri = "s3://art/mlflow/1/models/m-7/artifacts"
    assert created == inference.inference_service(ServingArgs(**{**ARGS.__dict__, "storage_uri": uri, "model_version": "7"}))
    assert _errors(created) == []
    (entry,) = [t for t in template["spec"]["templates"] if t["name"] == rollout.ENTRYPOINT]
    tasks = {t["name"]: t for t in entry["dag"]["tasks"]}
    assert tasks["create"]["dependencies"] == ["target"] and tasks["create"]["continueOn"] == {"failed": True}
    assert tasks["deploy"]["dependencies"] == ["create"]


def test_without_a_first_version_the_program_renders_no_inference_service():
    with pytest.raises(InvalidInput, match="storage_uri is not set"):
        inference.inference_service(FIRST)


def test_a_component_with_no_first_version_and_no_rollout_is_refused():
    """Nothing would ever create the InferenceService: refused before anything is registered."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
    from k8s_helpers import preview_components
    from components.serving.component import ModelServing, ModelServingArgs, ServingIdentity
    from mlops_tools.engine.preview import PreviewError

    def build(opts, rollout):
        ModelServing("serving", ModelServingArgs(serving=FIRST, identity=lambda parent: ServingIdentity({}),
                                                 rollout=rollout, artifacts_destination="s3://art/mlflow"), opts=opts)

    with pytest.raises(PreviewError, match="nothing would ever create the InferenceService"):
        preview_components(lambda opts: build(opts, None))
    result = preview_components(lambda opts: build(opts, ROLLOUT))
    assert not result.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    assert result.by_type("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
