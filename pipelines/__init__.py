"""The retraining loop's steps (issue 11): the code the Argo workflow's containers run.

One module per step, each a function a test can call and a sub-command of ``python -m pipelines``:

- ``train``: features from the Feast offline store's file (the parquet a ``FileSource`` points at), a
  time-ordered split, a small scikit-learn model; params, metrics, the model, the training reference and
  the hold-out set logged to one MLflow run.
- ``register``: a model version from that run (always, so every candidate is traceable).
- ``evaluate``: the candidate and the current production model (registered-model alias ``production``)
  scored on the same hold-out set; the verdict (``decision.compare``) tagged on the version.
- ``promote``: moves the ``production`` alias to the version when the verdict says so.
- ``drift``: recent inputs against the production model's training reference, per-feature two-sample
  Kolmogorov-Smirnov tests, scores written in Prometheus' text format.
- ``request-log`` (``request_log.py``, ``request_log_server.py``): not a step but the serving request log's
  sink, a long-running server in the same image: KServe's logger events in, parquet parts under the drift
  job's ``recentPath`` out.
- ``target`` / ``canary`` (``canary.py``): a version's storage URI for KServe, and the canary verdict
  (promote or roll back) from Prometheus' error ratio and p95 latency of that version (docs/serving.md).

Each step prints one JSON line (Argo reads it as the step's output) and exits 2 with one line naming the
flag and the value on bad input. ``decision`` and ``exposition`` hold the logic and import nothing heavy,
so ``make test`` checks them without MLflow; the pinned set the image installs is ``requirements.txt``.
"""

PRODUCTION_ALIAS = "production"


class StepError(Exception):
    """Bad input or state a user can fix; the CLI prints it as one line and exits 2."""
