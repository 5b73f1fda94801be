"""Issue 11, features through Feast's API: the rendered WorkflowTemplate's ``features`` step (its command and
arguments exactly as rendered, the pinned Feast venv = the Feast image's requirements) against the stack's
real Feast registry on moto's S3 with IAM enforced, as the steps' own IRSA role; then ``train`` (the step
package, the MLflow venv, the pipelines user) on the frame it wrote, against the stack's real MLflow.

What the test makes, as a feature team would: the offline rows of the feature view the stack names (with
an older and a future state per customer, so a point-in-time join is told apart from a latest-row read),
the labels file at the configured path, and ``feast apply`` of that view as the feature server's role.
AWS stacks (the registry on S3); Azure's registry store needs its account's real host name and GCP's
registry is covered by the Feast GCP smoke, so the step's proof there is its IAM check (test_pipeline_iam)."""

from __future__ import annotations

import json
import subprocess

import pytest

from mlops_tools.smoke.envs import venv
from mlops_tools.smoke.pipeline_features import run_features_step
from mlops_tools.smoke.plan import REPO


def test_features_step_joins_through_feast_as_the_step_role_and_train_reads_its_frame(plan, mlflow_run, report,
                                                                                        tmp_path_factory):
    if not plan.data["outputs"]["featureRegistryPath"].startswith("s3://"):
        pytest.skip("AWS stacks: the Feast registry on S3 (see the module docstring)")
    data = tmp_path_factory.mktemp("pipeline-features")
    run = run_features_step(plan, data)
    result, outputs, table, parameters, view = run.result, run.frame.parent, run.table, run.parameters, run.view

    assert result["rows"] == 400 and result["missing_values"] == 0 and set(result["features"]) == {"age", "spend", "visits"}
    # Point in time: each label row got its own moment's features, never the older or the future state.
    check = subprocess.run([str(venv("feast") / "python"), "-c", (
        "import sys, pandas as pd\n"
        "frame, table = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])\n"
        "joined = frame.merge(table[['customer_id', 'age']], on='customer_id', suffixes=('', '_expected'))\n"
        "print(int((joined['age'] - joined['age_expected']).abs().max() < 1e-9), len(joined))"),
        str(outputs / "training.parquet"), str(table)], capture_output=True, text=True, timeout=120, check=True)
    assert check.stdout.split() == ["1", "400"], check.stdout + check.stderr

    env = {**mlflow_run.client_env(mlflow_run.secrets["mlflow-pipelines/username"],
                                   mlflow_run.secrets["mlflow-pipelines/password"]), "PYTHONPATH": str(REPO)}
    trained = subprocess.run([str(mlflow_run.bin_dir / "python"), "-m", "pipelines", "train", "--features",
                              str(outputs / "training.parquet"), "--label", parameters["label"], "--entity",
                              parameters["entity"], "--experiment", f"{parameters['model-name']}-retraining"],
                             env=env, capture_output=True, text=True, timeout=600, cwd=data)
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads(trained.stdout.strip().splitlines()[-1])["metrics"]
    assert metrics["roc_auc"] > 0.8, metrics  # the clean labels follow the joined features
    report(f"features step (Feast {view}, as the steps' role): {result['rows']} rows, point-in-time exact; "
           f"train on its frame: roc_auc {metrics['roc_auc']:.3f}")
