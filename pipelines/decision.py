"""The two judgements of the loop, as pure functions: is the candidate better than production, and have
the recent inputs drifted from the training reference. No MLflow, no numpy: ``make test`` checks them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipelines import StepError

# Metrics the evaluate step computes; True when higher is better.
METRICS = {"roc_auc": True, "accuracy": True, "log_loss": False}


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str


def _finite(name: str, value: float) -> float:
    if value is None or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        raise StepError(f"evaluate: {name} is {value!r}; a finite number is required")
    return float(value)


def compare(metric: str, candidate: float, production: float | None, min_improvement: float = 0.0) -> Verdict:
    """Promote when there is no production model yet, or when the candidate beats it by more than
    ``min_improvement`` on ``metric`` (in the metric's direction). A tie keeps production: a retrain that
    is not better must not churn the serving model."""
    if metric not in METRICS:
        raise StepError(f"evaluate: --metric {metric!r} is not one of {', '.join(sorted(METRICS))}")
    if min_improvement < 0:
        raise StepError(f"evaluate: --min-improvement {min_improvement!r} must be >= 0")
    candidate = _finite(f"candidate {metric}", candidate)
    if production is None:
        return Verdict(True, f"no production model yet; candidate {metric}={candidate:.4f}")
    production = _finite(f"production {metric}", production)
    gain = candidate - production if METRICS[metric] else production - candidate
    if gain > min_improvement:
        return Verdict(True, f"candidate {metric}={candidate:.4f} beats production {production:.4f} "
                             f"by {gain:.4f} (> {min_improvement})")
    return Verdict(False, f"candidate {metric}={candidate:.4f} does not beat production {production:.4f} "
                          f"by more than {min_improvement}")


@dataclass(frozen=True)
class Drift:
    p_values: dict[str, float]
    drifted: tuple[str, ...]
    share: float
    detected: bool


def drift_verdict(p_values: dict[str, float], p_threshold: float = 0.05, share_threshold: float = 0.5) -> Drift:
    """A feature drifts when its test's p-value is below ``p_threshold``; the data set drifts when the
    share of drifted features reaches ``share_threshold`` (Evidently's default data-drift rule for small
    numeric data: K-S at 0.05, half the columns)."""
    if not p_values:
        raise StepError("drift: no feature columns to compare")
    if not 0 < p_threshold < 1:
        raise StepError(f"drift: --p-value {p_threshold!r} must be between 0 and 1")
    if not 0 < share_threshold <= 1:
        raise StepError(f"drift: --share {share_threshold!r} must be in (0, 1]")
    for feature, value in p_values.items():
        _finite(f"p-value of {feature}", value)
    drifted = tuple(sorted(f for f, p in p_values.items() if p < p_threshold))
    share = len(drifted) / len(p_values)
    return Drift(dict(sorted(p_values.items())), drifted, share, share >= share_threshold)
