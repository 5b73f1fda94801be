"""The serving request log: the predictor's logger (valid against KServe v0.20.0's CRD) points at the sink's
Service; the sink is hardened, its arguments are the step package's own, it writes exactly the drift job's
recentPath; its network policies let the predictors in and HTTPS out, nothing else; each cloud's identity
may create objects under that prefix and nothing more; bad config is one line naming the key."""

import dataclasses
import json

import pytest

from components.k8s._common import InvalidInput
from components.serving import inference
from components.serving import request_log as log
from components.serving.request_log import RequestLogArgs
from mlops_tools.validate.custom_resources import crd_validator
from pipelines.__main__ import parser
from stacks.config import ConfigError, load_config
from tests.stacks.matrix import CLOUD, serving_stack_for
from tests.stacks.scheduling import unschedulable
from test_serving_manifests import ARGS

LOG = RequestLogArgs(image="registry.example.com/mlops-pipelines:1.0.0", entity="customer_id",
                     output="s3://features/offline/churn/serving/recent/", extra_env={"AWS_REGION": "us-east-1"})
WITH_LOG = dataclasses.replace(ARGS, request_log=LOG)


def _errors(manifest):
    validator = crd_validator(manifest["kind"], manifest["apiVersion"])
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


def test_the_predictor_logger_validates_and_points_at_the_sink_service():
    isvc = inference.inference_service(WITH_LOG)
    assert _errors(isvc) == []
    logger = isvc["spec"]["predictor"]["logger"]
    assert logger["mode"] == "all"  # requests and responses: inputs and predictions
    [_, _, service] = log.manifests(LOG, "serving")
    port = service["spec"]["ports"][0]["port"]
    assert logger["url"] == f"http://{service['metadata']['name']}.serving.svc.cluster.local:{port}/"
    assert service["spec"]["sessionAffinity"] == "ClientIP"  # a pod's two events reach one replica
    assert "logger" not in inference.inference_service(ARGS)["spec"]["predictor"]
    broken = inference.inference_service(WITH_LOG)
    broken["spec"]["predictor"]["logger"]["mode"] = "everything"
    assert any("logger/mode" in e for e in _errors(broken))


def test_the_sink_is_hardened_and_runs_the_step_package_with_its_own_arguments():
    account, deployment, _ = log.manifests(LOG, "serving")
    assert account["automountServiceAccountToken"] is False
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] and not container["securityContext"]["allowPrivilegeEscalation"]
    assert container["resources"]["limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert pod["terminationGracePeriodSeconds"] >= 30  # SIGTERM writes the last part
    parsed = parser().parse_args(container["args"])
    assert (parsed.step, parsed.output, parsed.entity, parsed.port) == ("request-log", LOG.output, "customer_id", 8080)
    assert container["ports"][0]["containerPort"] == parsed.port
    assert {e["name"] for e in container["env"]} == {"AWS_REGION", "HOME"}


@pytest.mark.parametrize("change, message", [
    ({"image": "registry.example.com/mlops-pipelines:latest"}, "pinned"),
    ({"output": "s3://features/offline/churn/recent.parquet"}, "prefix ending in '/'"),
    ({"extra_env": {"AWS_SECRET_ACCESS_KEY": "x"}}, "credential"),
])
def test_bad_request_log_args_are_refused(change, message):
    with pytest.raises(InvalidInput, match=message):
        log.manifests(dataclasses.replace(LOG, **change), "serving")


def test_network_policies_let_only_the_predictors_in_and_https_out():
    sink, predictor = log.network_policies("serving", "churn")
    assert sink["spec"]["podSelector"]["matchLabels"] == log.SELECTOR
    assert sink["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {log.ISVC_LABEL: "churn"}}}],
                                        "ports": [{"protocol": "TCP", "port": log.PORT}]}]
    assert sink["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}]
    assert predictor["spec"]["podSelector"]["matchLabels"] == {log.ISVC_LABEL: "churn"}
    assert predictor["spec"]["egress"][0]["to"] == [{"podSelector": {"matchLabels": log.SELECTOR}}]


# ------------------------------------------------------------------------------------------------ config

BASE = {"mlops:cloud": "aws", "mlops:region": "us-east-1"}
SERVING = {"enabled": True, "runtimeImage": "registry.example.com/mlserver:1.7.1",
           "storageUri": "s3://artifacts/mlflow/1/models/m-1/artifacts"}
PIPELINES = {"enabled": True, "image": "registry.example.com/mlops-pipelines:1.0.0", "modelName": "churn",
             "featuresPath": "churn/training.parquet", "label": "churned", "entity": "customer_id",
             "drift": {"enabled": True, "recentPath": "churn/serving/recent/"}}


def _config(recent="churn/serving/recent/", request_log=None):
    pipelines = {**PIPELINES, "drift": {"enabled": True, "recentPath": recent}}
    serving = {**SERVING, **({"requestLog": request_log} if request_log is not None else {})}
    return load_config("dev", {**BASE, "mlops:serving": json.dumps(serving), "mlops:pipelines": json.dumps(pipelines)})


@pytest.mark.parametrize("recent", ["churn/serving/recent.parquet", "s3://other/recent/", "../registry/"])
def test_recent_path_must_be_a_prefix_of_the_offline_store_while_the_log_writes_it(recent):
    with pytest.raises(ConfigError) as caught:
        _config(recent)
    [line] = [p for p in caught.value.problems if "recentPath" in p]
    assert "mlops:pipelines.drift.recentPath" in line and recent in line and "ending in '/'" in line
    assert _config(recent, {"enabled": False}).serving.request_log.enabled is False  # off: recentPath is yours


def test_request_log_keys_are_checked():
    with pytest.raises(ConfigError) as caught:
        _config(request_log={"flushRows": 5})
    assert any("mlops:serving.requestLog.flushRows" in p for p in caught.value.problems)


# ------------------------------------------------------------------------------------------------ stacks

@pytest.fixture(scope="module", params=list(CLOUD))
def stack(request):
    """Each stack file as shipped (its pipelines and drift job, serving on) with a first model to serve."""
    return serving_stack_for(request.param)


def test_each_stack_logs_into_exactly_the_drift_jobs_recent_path_policy_clean(stack):
    assert stack.mandatory_violations() == []
    [deployment] = [d for d in stack.k8s_objects("Deployment") if d["metadata"]["name"] == log.NAME]
    output = parser().parse_args(deployment["spec"]["template"]["spec"]["containers"][0]["args"]).output
    [cron] = [c for c in stack.k8s_objects("CronWorkflow") if c["metadata"]["name"] == "drift"]
    args = cron["spec"]["workflowSpec"]["templates"][0]["container"]["args"]
    assert args[args.index("--recent") + 1] == output and output.endswith("/offline/churn/serving/recent/")
    report = stack.manifest_report()
    assert report.invalid == [] and "inferenceservice-serving-churn.yaml" in report.validated
    [workloads] = [p for p in stack.k8s_objects("NetworkPolicy")
                   if p["metadata"] == {**p["metadata"], "name": "workloads", "namespace": "serving"}]
    # The open serving policy (any namespace in) does not apply to the sink: its own policy is the only one.
    assert workloads["spec"]["podSelector"]["matchExpressions"] == [
        {"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [log.NAME]}]
    if CLOUD[stack.name] == "azure":  # the System pool is tainted: the sink (and the rest) find another pool
        assert unschedulable(stack.plan()) == []


def test_each_clouds_sink_identity_creates_objects_under_the_prefix_only(stack):
    cloud, resources = CLOUD[stack.name], stack.result.resources
    if cloud == "aws":
        [policy] = [r for r in resources if r["type"] == "aws:iam/rolePolicy:RolePolicy" and r["name"] == "request-log"]
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        assert sorted((s["Action"], s["Effect"]) for s in statements) == [("kms:GenerateDataKey", "Allow"),
                                                                          ("s3:PutObject", "Allow")]
        [put] = [s for s in statements if s["Action"] == "s3:PutObject"]
        assert "-features-" in put["Resource"] and put["Resource"].endswith("/offline/churn/serving/recent/*")
    elif cloud == "azure":
        [grant] = [r["inputs"] for r in resources if r["name"] == "request-log-writes"]
        assert "/containers/feast" in grant["scope"] and grant["conditionVersion"] == "2.0"
        assert "StringStartsWith 'offline/churn/serving/recent/'" in grant["condition"]
        assert all(f"blobs/{a}'" in grant["condition"] for a in ("read", "write", "add/action", "delete", "move/action"))
    else:
        [role] = [r["inputs"] for r in resources if r["type"] == "gcp:projects/iAMCustomRole:IAMCustomRole"
                  and r["name"] == "request-log-writer"]
        assert role["permissions"] == ["storage.objects.create"]
        [member] = [r["inputs"] for r in resources if r["name"] == "request-log-writes"]
        assert member["role"].endswith("/roles/" + role["roleId"])
        assert member["condition"]["expression"].endswith('/objects/offline/churn/serving/recent/")')
