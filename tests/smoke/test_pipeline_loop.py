"""Issue 11: the retraining loop's steps (``python -m pipelines``, the code the workflow containers run)
against the stack's real MLflow (rendered Deployment, Postgres, object-store emulator, basic-auth):
train, register, evaluate against the ``production`` alias, promote only the better model, and the drift
job scoring shifted inputs above its threshold in a format promtool accepts.

The steps log in as the pipeline's own user (Secret ``mlflow-pipelines``, created by the rendered migrate
step with EDIT on the stack's registered model only) and work on the model the rendered WorkflowTemplate
names; the same user is refused what EDIT does not allow."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from components.pipelines import TEMPLATE_NAME
from mlops_tools.smoke.pipeline_steps import step_runner


def template_parameter(plan, name: str) -> str:
    template = plan.k8s_object("WorkflowTemplate", TEMPLATE_NAME)  # serving renders its canary-rollout too
    return {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}[name]


def pipelines_user(plan, mlflow_run) -> tuple[str, str]:
    """The steps' credentials: the WorkflowTemplate's steps read Secret mlflow-pipelines, whose value the run made."""
    template = plan.k8s_object("WorkflowTemplate", TEMPLATE_NAME)  # serving renders its canary-rollout too
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for t in template["spec"]["templates"] if "container" in t
            for e in t["container"]["env"] if "valueFrom" in e}
    assert refs == {"mlflow-pipelines"}, refs
    return mlflow_run.secrets["mlflow-pipelines/username"], mlflow_run.secrets["mlflow-pipelines/password"]


@pytest.fixture(scope="session")
def loop(plan, mlflow_run, tmp_path_factory):
    return step_runner(mlflow_run, tmp_path_factory.mktemp("pipeline"), pipelines_user(plan, mlflow_run))


def _cycle(step, features: str, model: str) -> tuple[dict, dict, dict]:
    trained = step("train", "--features", features, "--label", "churned", "--entity", "customer_id",
                   "--experiment", f"{model}-retraining")
    version = step("register", "--run-id", trained["run_id"], "--model-name", model)["version"]
    evaluated = step("evaluate", "--model-name", model, "--version", version)
    promoted = step("promote", "--model-name", model, "--version", version)
    return trained, evaluated, promoted


def test_loop_promotes_only_a_better_model_and_scores_drift(plan, loop, report):
    model = template_parameter(plan, "model-name")  # the model the pipelines user may EDIT
    _, first, promoted = _cycle(loop, loop.table("noisy", 1), model)
    assert first["production"] is None and promoted["promoted"] and promoted["production_version"] == "1"

    _, second, promoted = _cycle(loop, loop.table("clean", 2), model)
    assert second["production_version"] == "1" and second["promote"], second
    assert second["candidate"]["roc_auc"] > second["production"]["roc_auc"]
    assert promoted["promoted"] and promoted["production_version"] == "2"

    _, third, promoted = _cycle(loop, loop.table("bad-labels", 3), model)
    assert third["production_version"] == "2" and not third["promote"], third
    assert not promoted["promoted"] and promoted["production_version"] == "2"
    report(f"pipeline loop: v1 promoted (first), v2 promoted (roc_auc {second['candidate']['roc_auc']:.3f} > "
           f"{second['production']['roc_auc']:.3f}), v3 kept out (roc_auc {third['candidate']['roc_auc']:.3f} <= "
           f"{third['production']['roc_auc']:.3f})")

    calm = loop("drift", "--model-name", model, "--recent", loop.table("recent", 4), "--entity", "customer_id",
                "--output", str(loop.data / "calm.prom"))
    shifted = loop("drift", "--model-name", model, "--recent", loop.table("shifted", 5), "--entity", "customer_id",
                   "--output", str(loop.data / "shifted.prom"))
    assert calm["production_version"] == shifted["production_version"] == "2"
    assert not calm["detected"] and shifted["detected"] and shifted["share"] >= 0.5, (calm, shifted)
    assert {"age", "spend"} <= set(shifted["drifted"])
    text = (loop.data / "shifted.prom").read_text()
    assert f'mlops_model_drift_detected{{model="{model}"}} 1' in text
    promtool = shutil.which("promtool")
    if promtool:  # make smoke's set-up installs it; promtool lints the exposition as Prometheus parses it
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    report(f"drift: calm share {calm['share']:.2f}, shifted share {shifted['share']:.2f} drifted {shifted['drifted']}")


def test_promote_refuses_an_unevaluated_version(plan, loop):
    model = template_parameter(plan, "model-name")
    trained = loop("train", "--features", loop.table("clean", 6), "--label", "churned", "--entity", "customer_id",
                   "--experiment", "unevaluated")
    version = loop("register", "--run-id", trained["run_id"], "--model-name", model)["version"]
    err = loop("promote", "--model-name", model, "--version", version, expect=2)
    assert "no evaluation" in err and "Traceback" not in err
    err = loop("train", "--features", str(loop.data / "missing.parquet"), "--label", "churned", "--entity", "customer_id",
               "--experiment", "x", expect=2)
    assert "--features" in err and "missing.parquet" in err


def _call(mlflow_run, user: tuple[str, str], method: str, path: str, body: dict | None = None) -> int:
    token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    request = urllib.request.Request(f"{mlflow_run.url}/api/2.0/mlflow/{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_pipelines_user_has_edit_on_its_model_and_nothing_more(plan, mlflow_run, loop, report):
    """EDIT on the configured model (new versions, aliases, tags: the loop above needs them); no delete, no
    other model's versions or aliases, no user administration."""
    model = template_parameter(plan, "model-name")
    user = pipelines_user(plan, mlflow_run)
    admin = (mlflow_run.secrets["mlflow-admin/username"], mlflow_run.secrets["mlflow-admin/password"])
    assert _call(mlflow_run, admin, "POST", "registered-models/create", {"name": "team-other-model"}) == 200
    assert _call(mlflow_run, user, "GET", f"registered-models/get?name={model}") == 200
    allowed = _call(mlflow_run, user, "POST", "registered-models/set-tag", {"name": model, "key": "k", "value": "v"})
    refused = {
        "delete its model": _call(mlflow_run, user, "DELETE", "registered-models/delete", {"name": model}),
        "delete a version": _call(mlflow_run, user, "DELETE", "model-versions/delete", {"name": model, "version": "1"}),
        "version another model": _call(mlflow_run, user, "POST", "model-versions/create",
                                       {"name": "team-other-model", "source": "models:/x/1"}),
        "alias another model": _call(mlflow_run, user, "POST", "registered-models/alias",
                                     {"name": "team-other-model", "alias": "production", "version": "1"}),
        "grant itself MANAGE": _call(mlflow_run, user, "PATCH", "registered-models/permissions/update",
                                     {"name": model, "username": user[0], "permission": "MANAGE"}),
        "read another user": _call(mlflow_run, user, "GET", f"users/get?username={admin[0]}"),
    }
    assert allowed == 200
    assert refused == {what: 403 for what in refused}, refused
    report(f"pipelines user {user[0]}: EDIT on {model} (set-tag 200); refused: " + ", ".join(refused))
