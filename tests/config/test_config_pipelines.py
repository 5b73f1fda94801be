"""mlops:pipelines: off by default; when on, the keys the retraining workflow needs, each checked."""

import pytest

from stacks.config import ConfigError, load_config

ENABLED = {"enabled": True, "image": "ghcr.io/acme/mlops-pipelines:1.0.0", "featuresPath": "s3://features/churn.parquet",
           "label": "churned", "entity": "customer_id"}


def load(pipelines):
    import json
    return load_config("dev", {"mlops:cloud": "aws", "mlops:region": "us-east-1", "mlops:pipelines": json.dumps(pipelines)})


def problems(pipelines):
    with pytest.raises(ConfigError) as caught:
        load(pipelines)
    return caught.value.problems


def test_off_by_default_and_defaults():
    c = load_config("dev", {"mlops:cloud": "aws", "mlops:region": "us-east-1"}).pipelines
    assert (c.enabled, c.schedule, c.metric, c.min_improvement, c.image) == (False, "0 3 * * 1", "roc_auc", 0.0, None)


def test_enabled_with_its_keys_loads():
    c = load(ENABLED).pipelines
    assert c.enabled and c.features_path == "s3://features/churn.parquet" and c.entity == "customer_id"


def test_enabled_without_image_and_features_names_each_key():
    lines = problems({"enabled": True})
    assert len(lines) == 4
    assert lines[0].startswith("Pulumi.dev.yaml: mlops:pipelines.image")
    assert any("mlops:pipelines.featuresPath" in line and "FileSource" in line for line in lines)


@pytest.mark.parametrize("key, value, words", [
    ("schedule", "every monday", ["mlops:pipelines.schedule", "every monday", "five-field cron"]),
    ("schedule", "0 3 * *", ["five-field cron"]),
    ("image", "ghcr.io/acme/mlops-pipelines:latest", ["mlops:pipelines.image", "not :latest"]),
    ("image", "ghcr.io/acme/mlops-pipelines", ["mlops:pipelines.image"]),
    ("metric", "f1", ["mlops:pipelines.metric", "'roc_auc'"]),
    ("minImprovement", -0.1, ["mlops:pipelines.minImprovement", "-0.1"]),
    ("featuresPath", "http://x/y.parquet", ["mlops:pipelines.featuresPath"]),
    ("schedul", "0 3 * * 1", ["mlops:pipelines.schedul"]),
])
def test_bad_value_is_one_line_naming_key_and_value(key, value, words):
    [line] = problems({**ENABLED, key: value})
    assert line.startswith("Pulumi.dev.yaml: ") and all(w in line for w in words), line


@pytest.mark.parametrize("path", ["churn/training.parquet", "training.parquet", "gs://b/offline/x.parquet"])
def test_features_path_may_be_a_name_under_the_offline_store(path):
    assert load({**ENABLED, "featuresPath": path}).pipelines.features_path == path


@pytest.mark.parametrize("path", ["../etc/x.parquet", "churn/../../x.parquet", "churn training.parquet", "churn.csv"])
def test_features_path_outside_the_offline_store_or_not_parquet_is_refused(path):
    [line] = problems({**ENABLED, "featuresPath": path})
    assert "mlops:pipelines.featuresPath" in line and path in line
