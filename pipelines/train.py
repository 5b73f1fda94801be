"""Train step: a logistic regression on the offline store's features, logged to MLflow with its params,
hold-out metrics, the model (with its signature), the training reference (for the drift step) and the
hold-out set (for the evaluate step)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines import StepError, features

REFERENCE = "reference/features.parquet"
HOLDOUT = "evaluation/holdout.parquet"


def scores(model, frame, columns: list[str], label: str) -> dict[str, float]:
    """The metrics ``decision.METRICS`` names, on one frame; the same code scores candidate and production."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    y = frame[label].to_numpy()
    if len(set(y)) < 2:
        raise StepError(f"evaluate: the hold-out set has only label {y[0]!r}; both classes are needed")
    x = frame[columns]
    probability = model.predict_proba(x)[:, 1]
    return {"roc_auc": float(roc_auc_score(y, probability)),
            "accuracy": float(accuracy_score(y, model.predict(x))),
            "log_loss": float(log_loss(y, probability, labels=[0, 1]))}


def run(features_path: str, label: str, entity: str, experiment: str, holdout: float = 0.25,
        c: float = 1.0, max_iter: int = 200, seed: int = 0) -> dict:
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if c <= 0:
        raise StepError(f"train: --c {c!r} must be > 0")
    frame, columns = features.read(features_path, label, entity)
    train_set, holdout_set = features.time_split(frame, holdout)
    if train_set[label].nunique() < 2:
        raise StepError(f"train: --features {features_path!r}: the training rows have one label value only")
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=max_iter, random_state=seed))
    model.fit(train_set[columns], train_set[label])
    metrics = scores(model, holdout_set, columns, label)
    mlflow.set_experiment(experiment)
    with mlflow.start_run() as active:
        mlflow.log_params({"model": "StandardScaler+LogisticRegression", "C": c, "max_iter": max_iter,
                           "seed": seed, "holdout": holdout, "features": ",".join(columns), "label": label,
                           "source": features_path, "rows_train": len(train_set), "rows_holdout": len(holdout_set)})
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(model, name="model", input_example=train_set[columns].head(3),
                                        signature=infer_signature(train_set[columns], model.predict(train_set[columns])))
        with tempfile.TemporaryDirectory() as tmp:
            for artifact, data in ((REFERENCE, train_set[columns]), (HOLDOUT, holdout_set[columns + [label]])):
                path = Path(tmp) / Path(artifact).name
                data.to_parquet(path, index=False)
                mlflow.log_artifact(str(path), artifact_path=str(Path(artifact).parent))
    return {"run_id": active.info.run_id, "model_uri": info.model_uri, "metrics": metrics,
            "features": columns, "label": label}
