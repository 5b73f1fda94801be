"""Issue 11: the retraining loop's steps (``python -m pipelines``, the code the workflow containers run)
against the stack's real MLflow (rendered Deployment, Postgres, object-store emulator, basic-auth):
train, register, evaluate against the ``production`` alias, promote only the better model, and the drift
job scoring shifted inputs above its threshold in a format promtool accepts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mlops_tools.smoke.pipeline_steps import step_runner


@pytest.fixture(scope="session")
def loop(mlflow_run, tmp_path_factory):
    return step_runner(mlflow_run, tmp_path_factory.mktemp("pipeline"))


def _cycle(step, features: str, model: str) -> tuple[dict, dict, dict]:
    trained = step("train", "--features", features, "--label", "churned", "--entity", "customer_id",
                   "--experiment", f"{model}-retraining")
    version = step("register", "--run-id", trained["run_id"], "--model-name", model)["version"]
    evaluated = step("evaluate", "--model-name", model, "--version", version)
    promoted = step("promote", "--model-name", model, "--version", version)
    return trained, evaluated, promoted


def test_loop_promotes_only_a_better_model_and_scores_drift(loop, report):
    model = "churn-smoke"
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
    assert 'mlops_model_drift_detected{model="churn-smoke"} 1' in text
    promtool = shutil.which("promtool")
    if promtool:  # make smoke's set-up installs it; promtool lints the exposition as Prometheus parses it
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    report(f"drift: calm share {calm['share']:.2f}, shifted share {shifted['share']:.2f} drifted {shifted['drifted']}")


def test_promote_refuses_an_unevaluated_version(loop):
    trained = loop("train", "--features", loop.table("clean", 6), "--label", "churned", "--entity", "customer_id",
                   "--experiment", "unevaluated")
    version = loop("register", "--run-id", trained["run_id"], "--model-name", "churn-unevaluated")["version"]
    err = loop("promote", "--model-name", "churn-unevaluated", "--version", version, expect=2)
    assert "no evaluation" in err and "Traceback" not in err
    err = loop("train", "--features", str(loop.data / "missing.parquet"), "--label", "churned", "--entity", "customer_id",
               "--experiment", "x", expect=2)
    assert "--features" in err and "missing.parquet" in err
