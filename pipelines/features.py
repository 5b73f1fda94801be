"""Features as Feast's offline store keeps them: the parquet file (local path, s3://, gs:// or abfs://,
read through pyarrow's file systems, so workload identity applies in the cluster) that the feature view's
``FileSource`` points at, one row per entity and event time."""

from __future__ import annotations

from pipelines import StepError

TIMESTAMP = "event_timestamp"
NOT_FEATURES = {TIMESTAMP, "created", "created_timestamp"}


def read(path: str, label: str | None, entity: str, flag: str = "--features"):
    """(frame sorted by event time, feature column names). The label and entity must be present;
    every other numeric column but the timestamps is a feature."""
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except (OSError, ValueError) as error:
        raise StepError(f"{flag} {path!r}: not a readable parquet file ({str(error).splitlines()[0]})") from None
    required = [c for c in (label, entity, TIMESTAMP) if c]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise StepError(f"{flag} {path!r}: no column {', '.join(map(repr, missing))} "
                        f"(columns: {', '.join(map(str, frame.columns))})")
    features = [c for c in frame.columns if c not in NOT_FEATURES | {label, entity}
                and frame[c].dtype.kind in "iufb"]
    if not features:
        raise StepError(f"{flag} {path!r}: no numeric feature columns besides {', '.join(required)}")
    if len(frame) < 10:
        raise StepError(f"{flag} {path!r}: {len(frame)} rows; at least 10 are needed")
    return frame.sort_values([TIMESTAMP, entity], kind="stable").reset_index(drop=True), features


def time_split(frame, holdout: float):
    """The latest ``holdout`` share of rows by event time is the hold-out set: a model is judged on data
    newer than what it learned from, as it will be in production."""
    if not 0 < holdout < 1:
        raise StepError(f"train: --holdout {holdout!r} must be between 0 and 1")
    cut = int(round(len(frame) * (1 - holdout)))
    if cut < 5 or len(frame) - cut < 5:
        raise StepError(f"train: --holdout {holdout} leaves {cut} training and {len(frame) - cut} hold-out rows; "
                        f"each needs at least 5")
    return frame.iloc[:cut], frame.iloc[cut:]
