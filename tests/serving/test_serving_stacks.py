"""Every stack file previews with `mlops:serving` on: KServe's pieces in the plan, zero unwaived mandatory
violations from every pack, every custom resource valid against its pinned CRD, and the model server's
cloud identity reading the MLflow artifact store only."""

import json

import pytest

from tests.stacks.matrix import CLOUD, MODEL_STORAGE as STORAGE, serving_stack_for, stack_for


# The stack files ship serving and the pipelines (so the canary rollout template and its policies) on; the
# variant adds a first model, so the InferenceService is in the plan (tests/serving/test_request_log.py reads
# the same Stack).
@pytest.fixture(scope="module", params=list(CLOUD))
def stack(request):
    return serving_stack_for(request.param)


def test_zero_unwaived_mandatory_violations_with_serving(stack):
    assert stack.result.by_type("mlops:serving:ModelServing")
    assert stack.mandatory_violations() == []


def test_every_serving_custom_resource_validates_against_its_crd(stack):
    report = stack.manifest_report()
    kinds = {r["type"].rsplit(":", 1)[1] for r in stack.result.resources if r["type"].startswith("kubernetes:")}
    assert {"InferenceService", "ServingRuntime", "PodMonitor", "KnativeServing"} <= kinds
    if stack.name.endswith("dev"):
        assert "WorkflowTemplate" in kinds
    assert report.invalid == [] and report.without_schema == [], (report.invalid, report.without_schema)
    expected = {"inferenceservice-serving-churn.yaml", "servingruntime-serving-mlflow-mlserver.yaml",
                "podmonitor-serving-churn.yaml", "knativeserving-knative-serving-knative-serving.yaml"}
    if stack.name.endswith("dev"):
        expected.add("workflowtemplate-pipelines-canary-rollout.yaml")
    assert expected <= set(report.validated), sorted(expected - set(report.validated))


def test_retraining_rolls_a_promoted_version_out_through_the_canary_template(stack):
    """The retraining DAG ends in the canary rollout (same condition as promote), and the template it names
    is installed in the pipelines' namespace: Argo resolves templateRef there at run time."""
    templates = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]
                 for r in stack.result.by_type("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")}
    dag = {t["name"]: t for t in next(t for t in templates[("pipelines", "retraining")]["spec"]["templates"]
                                      if t["name"] == "retrain")["dag"]["tasks"]}
    canary = dag["canary"]
    assert canary["dependencies"] == ["promote"] and canary["when"] == dag["promote"]["when"]
    assert ("pipelines", canary["templateRef"]["name"]) in templates
    assert {p["name"]: p["value"] for p in canary["arguments"]["parameters"]}["version"] == \
        "{{tasks.register.outputs.parameters.version}}"


def test_inference_service_uses_the_platform_identity_and_scales_to_zero(stack):
    (isvc,) = stack.result.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    predictor = isvc["inputs"]["spec"]["predictor"]
    # Dev stack files scale to zero; prod ones keep one warm replica.
    assert predictor["serviceAccountName"] == "model-server"
    assert predictor["minReplicas"] == (1 if stack.name.endswith("prod") else 0)
    assert predictor["model"]["modelFormat"] == {"name": "mlflow"} and predictor["model"]["protocolVersion"] == "v2"
    assert predictor["model"]["storageUri"] == STORAGE[CLOUD[stack.name]]
    (account,) = [r for r in stack.result.by_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "model-server"]
    annotations = account["inputs"]["metadata"]["annotations"]
    expected = {"aws": "eks.amazonaws.com/role-arn", "azure": "azure.workload.identity/client-id",
                "gcp": "iam.gke.io/gcp-service-account"}[CLOUD[stack.name]]
    assert expected in annotations
    if CLOUD[stack.name] == "azure":
        assert predictor["labels"]["azure.workload.identity/use"] == "true"


def test_model_server_identity_only_reads_the_artifact_store(stack):
    cloud = CLOUD[stack.name]
    if cloud == "aws":
        (policy,) = [r for r in stack.result.by_type("aws:iam/rolePolicy:RolePolicy") if r["name"] == "model-server"]
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
        assert actions == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
        assert all(s["Effect"] == "Allow" for s in statements)
    elif cloud == "azure":
        (grant,) = [r for r in stack.result.by_type("azure-native:authorization:RoleAssignment")
                    if r["name"] == "model-server-artifacts"]
        assert grant["inputs"]["roleDefinitionId"].endswith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")  # Blob Data Reader
        assert "/blobServices/default/containers/" in grant["inputs"]["scope"]
    else:
        (member,) = [r for r in stack.result.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
                     if r["name"] == "model-server-artifacts"]
        assert member["inputs"]["role"] == "roles/storage.objectViewer"


SHIPPED = list(CLOUD)


def test_every_shipped_stack_file_serves_before_its_first_model():
    """Serving is on in all six stack files without a first model: the retraining pipeline's canary rollout
    will create the InferenceService (cheap: the config only; one stack previewed below)."""
    from mlops_tools.engine.preview import load_stack_config
    from stacks.config import load_config
    from stacks.serving import canary_rollout_on
    from tests.stacks.matrix import ROOT

    for name in SHIPPED:
        cfg = load_config(name, load_stack_config(ROOT, name, ())[1].values)
        assert cfg.serving.enabled and cfg.serving.storage_uri is None and canary_rollout_on(cfg), name
        assert cfg.serving.min_replicas == (1 if name.endswith("prod") else 0), name


def test_a_shipped_stack_installs_serving_and_the_rollout_that_creates_the_service():
    stack = stack_for("gcp-prod")
    assert stack.mandatory_violations() == []
    assert stack.result.by_type("mlops:serving:ModelServing")
    assert not stack.result.by_type("kubernetes:serving.kserve.io/v1beta1:InferenceService")
    runtime = stack.result.by_type("kubernetes:serving.kserve.io/v1alpha1:ServingRuntime")
    (template,) = [r for r in stack.result.by_type("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate")
                   if r["inputs"]["metadata"]["name"] == "canary-rollout"]
    steps = {t["name"]: t for t in template["inputs"]["spec"]["templates"]}
    assert steps["create"]["resource"]["action"] == "create"
    # The rollout waits for KServe's controller and the runtime: its first run creates the service.
    releases = {r["inputs"]["chart"]: r["urn"] for r in stack.result.by_type("kubernetes:helm.sh/v3:Release")}
    assert releases["oci://ghcr.io/kserve/charts/kserve-resources"] in template["dependencies"]
    assert runtime[0]["urn"] in template["dependencies"]
