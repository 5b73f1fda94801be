"""Register, evaluate and promote: the registry half of the loop, on MLflow's client API. The candidate
is always registered (traceable); only a version the evaluation approved moves the ``production`` alias."""

from __future__ import annotations

import json
import tempfile

from pipelines import PRODUCTION_ALIAS, StepError, decision, train

VERDICT_TAG = "mlops.evaluation"


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def production_version(client, model_name: str):
    """The version the ``production`` alias points at, or None (no model or no alias yet)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, PRODUCTION_ALIAS)
    except MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def register(run_id: str, model_name: str) -> dict:
    import mlflow
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        client.get_run(run_id)
    except MlflowException:
        raise StepError(f"register: --run-id {run_id!r}: no such MLflow run") from None
    version = mlflow.register_model(f"runs:/{run_id}/model", model_name)
    return {"model_name": model_name, "version": version.version, "run_id": run_id}


def evaluate(model_name: str, version: str, metric: str = "roc_auc", min_improvement: float = 0.0) -> dict:
    """Score the candidate version and the production version on the candidate run's hold-out set."""
    import mlflow
    import mlflow.sklearn
    import pandas as pd

    client = _client()
    candidate = client.get_model_version(model_name, version)
    run = client.get_run(candidate.run_id)
    columns, label = run.data.params["features"].split(","), run.data.params["label"]
    with tempfile.TemporaryDirectory() as tmp:
        holdout = pd.read_parquet(mlflow.artifacts.download_artifacts(
            run_id=candidate.run_id, artifact_path=train.HOLDOUT, dst_path=tmp))
    candidate_scores = train.scores(mlflow.sklearn.load_model(f"models:/{model_name}/{version}"), holdout, columns, label)
    current = production_version(client, model_name)
    if current is not None and current.version == str(version):
        raise StepError(f"evaluate: {model_name} version {version} is already the production version")
    production_scores = None
    if current is not None:
        production_model = mlflow.sklearn.load_model(f"models:/{model_name}@{PRODUCTION_ALIAS}")
        production_scores = train.scores(production_model, holdout, columns, label)
    verdict = decision.compare(metric, candidate_scores[metric],
                               None if production_scores is None else production_scores[metric], min_improvement)
    result = {"model_name": model_name, "version": str(version), "metric": metric, "candidate": candidate_scores,
              "production": production_scores, "production_version": None if current is None else current.version,
              "promote": verdict.promote, "reason": verdict.reason}
    client.set_model_version_tag(model_name, str(version), VERDICT_TAG, json.dumps(result, sort_keys=True))
    with mlflow.start_run(run_id=candidate.run_id):
        if production_scores is not None:
            mlflow.log_metrics({f"production_{k}": v for k, v in production_scores.items()})
    return result


def promote(model_name: str, version: str) -> dict:
    """Move the alias when the version's recorded evaluation approved it; never on an unevaluated one."""
    client = _client()
    tags = client.get_model_version(model_name, str(version)).tags
    if VERDICT_TAG not in tags:
        raise StepError(f"promote: {model_name} version {version} has no evaluation (tag {VERDICT_TAG}); run evaluate first")
    verdict = json.loads(tags[VERDICT_TAG])
    previous = production_version(client, model_name)
    if verdict["promote"]:
        client.set_registered_model_alias(model_name, PRODUCTION_ALIAS, str(version))
        if previous is not None:
            client.set_model_version_tag(model_name, str(version), "mlops.previous_production", previous.version)
    return {"model_name": model_name, "version": str(version), "promoted": bool(verdict["promote"]),
            "production_version": str(version) if verdict["promote"] else (previous.version if previous else None),
            "reason": verdict["reason"]}
