"""Drift step: recent inputs (the parquet of logged serving requests, same columns as the features)
against the training reference of the production model's run, one two-sample Kolmogorov-Smirnov test per
feature (scipy), the verdict from ``decision.drift_verdict``, the scores in Prometheus' text format."""

from __future__ import annotations

import os
import tempfile
import time

from pipelines import PRODUCTION_ALIAS, StepError, decision, exposition, features, train


def reference_frame(model_name: str):
    import mlflow
    import pandas as pd

    from pipelines.registry import _client, production_version

    current = production_version(_client(), model_name)
    if current is None:
        raise StepError(f"drift: {model_name} has no {PRODUCTION_ALIAS!r} alias; nothing to compare against")
    with tempfile.TemporaryDirectory() as tmp:
        return pd.read_parquet(mlflow.artifacts.download_artifacts(
            run_id=current.run_id, artifact_path=train.REFERENCE, dst_path=tmp)), current.version


def score(reference, recent, columns: list[str]) -> dict[str, float]:
    from scipy.stats import ks_2samp

    return {c: float(ks_2samp(reference[c].to_numpy(), recent[c].dropna().to_numpy()).pvalue) for c in columns}


def run(model_name: str, recent_path: str, entity: str, output: str, p_threshold: float = 0.05,
        share_threshold: float = 0.5, now: float | None = None) -> dict:
    reference, version = reference_frame(model_name)
    recent, _ = features.read(recent_path, None, entity, flag="--recent")
    missing = [c for c in reference.columns if c not in recent.columns]
    if missing:
        raise StepError(f"drift: --recent {recent_path!r} lacks the model's features {', '.join(missing)}")
    result = decision.drift_verdict(score(reference, recent, list(reference.columns)), p_threshold, share_threshold)
    text = exposition.render(model_name, result, time.time() if now is None else now)
    # The workflow writes into the outputs directory of its /tmp emptyDir, which starts empty.
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    return {"model_name": model_name, "production_version": version, "share": result.share,
            "detected": result.detected, "drifted": list(result.drifted), "p_values": result.p_values,
            "metrics_file": output}
