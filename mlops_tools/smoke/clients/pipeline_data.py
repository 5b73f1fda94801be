"""Tiny feature tables in the layout of a Feast FileSource (entity, event_timestamp, features, label) for
the retraining-loop smoke run. Run with the MLflow venv's Python: ``pipeline_data.py <kind> <path> <seed>``.

kinds: ``noisy`` (40% of labels flipped: a weak first model), ``clean`` (labels follow the features),
``bad-labels`` (the training period's labels are random, the latest quarter clean: a candidate that must
lose), ``recent`` (inputs from the training distribution, no label), ``shifted`` (inputs moved: drift).
"""

import sys

import numpy as np
import pandas as pd


def table(kind: str, seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, rows)
    spend = rng.gamma(2.0, 50.0, rows)
    visits = rng.poisson(5, rows).astype("int64")
    if kind == "shifted":
        age, spend = age + 15, spend * 2.5
    frame = pd.DataFrame({
        "customer_id": np.arange(rows, dtype="int64"),
        "event_timestamp": pd.date_range("2026-01-01", periods=rows, freq="h", tz="UTC"),
        "age": age, "spend": spend, "visits": visits,
    })
    if kind in ("recent", "shifted"):
        return frame
    score = 0.08 * (age - 40) + 0.02 * (spend - 100) + 0.3 * (visits - 5)
    label = (score + rng.normal(0, 0.5, rows) > 0).astype("int64")
    if kind == "noisy":
        flip = rng.random(rows) < 0.4
        label = np.where(flip, 1 - label, label)
    elif kind == "bad-labels":
        cut = int(rows * 0.75)
        label[:cut] = rng.integers(0, 2, cut)
    elif kind != "clean":
        raise SystemExit(f"unknown kind {kind!r}")
    frame["churned"] = label
    return frame


if __name__ == "__main__":
    table(sys.argv[1], int(sys.argv[3])).to_parquet(sys.argv[2], index=False)
