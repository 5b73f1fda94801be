"""The loop's judgements: promote only a better candidate, flag drift only past both thresholds."""

import math

import pytest

from pipelines import StepError
from pipelines.decision import compare, drift_verdict


def test_first_model_is_promoted():
    verdict = compare("roc_auc", 0.71, None)
    assert verdict.promote and "no production model" in verdict.reason


def test_better_candidate_is_promoted_worse_or_equal_is_not():
    assert compare("roc_auc", 0.90, 0.80).promote
    assert not compare("roc_auc", 0.80, 0.80).promote  # a tie keeps production
    assert not compare("roc_auc", 0.70, 0.80).promote


def test_min_improvement_is_a_margin():
    assert not compare("accuracy", 0.805, 0.80, min_improvement=0.01).promote
    assert compare("accuracy", 0.82, 0.80, min_improvement=0.01).promote


def test_lower_is_better_for_log_loss():
    assert compare("log_loss", 0.30, 0.40).promote
    assert not compare("log_loss", 0.45, 0.40).promote


@pytest.mark.parametrize("kwargs, words", [
    (dict(metric="f1", candidate=0.9, production=0.8), ["--metric", "'f1'", "roc_auc"]),
    (dict(metric="roc_auc", candidate=math.nan, production=0.8), ["candidate roc_auc", "nan"]),
    (dict(metric="roc_auc", candidate=0.9, production=0.8, min_improvement=-1), ["--min-improvement", "-1"]),
])
def test_bad_input_names_flag_and_value(kwargs, words):
    with pytest.raises(StepError) as error:
        compare(**kwargs)
    assert all(w in str(error.value) for w in words), str(error.value)


def test_drift_needs_share_of_features_below_p_value():
    verdict = drift_verdict({"a": 0.001, "b": 0.2, "c": 0.9, "d": 0.04})
    assert verdict.drifted == ("a", "d") and verdict.share == 0.5 and verdict.detected
    assert not drift_verdict({"a": 0.001, "b": 0.2, "c": 0.9}).detected  # 1/3 < 0.5
    assert drift_verdict({"a": 0.001, "b": 0.2, "c": 0.9}, share_threshold=0.3).detected


@pytest.mark.parametrize("args, words", [
    (({},), ["no feature columns"]),
    (({"a": 0.1}, 1.5), ["--p-value", "1.5"]),
    (({"a": 0.1}, 0.05, 0), ["--share", "0"]),
])
def test_drift_bad_input(args, words):
    with pytest.raises(StepError) as error:
        drift_verdict(*args)
    assert all(w in str(error.value) for w in words), str(error.value)
