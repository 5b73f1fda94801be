"""mlops:pipelines.drift: off by default; on, it needs the pipeline and the recent-inputs path; bad values
are one line naming the key."""

import pytest

from stacks.config_drift import drift_args

from test_config_pipelines import ENABLED as PIPELINE, load, problems  # noqa: E402


def test_off_by_default_with_hourly_schedule_and_retrain():
    d = load(PIPELINE).pipelines.drift
    assert (d.enabled, d.schedule, d.p_value, d.share, d.retrain, d.recent_path) == (False, "0 * * * *", 0.05, 0.5, True, None)


def test_enabled_loads_and_becomes_component_args():
    d = load({**PIPELINE, "drift": {"enabled": True, "recentPath": "s3://serving-logs/churn/", "pValue": 0.01,
                                    "retrain": False}}).pipelines.drift
    args = drift_args(d)
    assert (args.recent_path, args.p_value, args.retrain, args.schedule) == ("s3://serving-logs/churn/", 0.01, False, "0 * * * *")


def test_enabled_needs_the_pipeline_and_the_recent_path():
    lines = problems({"drift": {"enabled": True}})
    assert any("mlops:pipelines.drift.enabled" in line and "pipelines.enabled" in line for line in lines), lines
    assert any("mlops:pipelines.drift.recentPath" in line and "serving inputs" in line for line in lines), lines


@pytest.mark.parametrize("key, value, words", [
    ("schedule", "hourly", ["mlops:pipelines.drift.schedule", "hourly", "five-field cron"]),
    ("pValue", 1.5, ["mlops:pipelines.drift.pValue", "1.5"]),
    ("share", 0, ["mlops:pipelines.drift.share"]),
    ("recentPath", "ftp://x/y", ["mlops:pipelines.drift.recentPath", "ftp://x/y"]),
    ("recentPath", "https://logs/x/", ["mlops:pipelines.drift.recentPath", "https://logs/x/", "offline store"]),
    ("recentPath", "churn/ recent", ["mlops:pipelines.drift.recentPath", "churn/ recent"]),
    ("retrian", True, ["mlops:pipelines.drift.retrian"]),
])
def test_bad_value_is_one_line_naming_key_and_value(key, value, words):
    [line] = problems({**PIPELINE, "drift": {"enabled": True, "recentPath": "s3://logs/", key: value}})
    assert line.startswith("Pulumi.dev.yaml: ") and all(w in line for w in words), line


def test_a_relative_recent_path_is_kept_for_the_stack_to_put_under_its_offline_store():
    d = load({**PIPELINE, "drift": {"enabled": True, "recentPath": "churn/serving/recent/"}}).pipelines.drift
    assert d.recent_path == "churn/serving/recent/" and drift_args(d).recent_path == "churn/serving/recent/"
    assert drift_args(d, "s3://features/offline/churn/serving/recent/").recent_path == \
        "s3://features/offline/churn/serving/recent/"
