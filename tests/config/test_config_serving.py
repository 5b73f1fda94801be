"""mlops:serving: off by default; when on, its keys checked with one line each naming the key and value."""

import json

import pytest

from stacks.config import ConfigError, load_config

BASE = {"aws": {"mlops:cloud": "aws", "mlops:region": "us-east-1"},
        "azure": {"mlops:cloud": "azure", "mlops:region": "westeurope"},
        "gcp": {"mlops:cloud": "gcp", "mlops:region": "europe-west1"}}
ENABLED = {"enabled": True, "runtimeImage": "registry.example.com/mlserver:1.7.1-mlflow3.10.1",
           "storageUri": "s3://artifacts/mlflow/1/models/m-1/artifacts"}


def load(serving, cloud="aws"):
    return load_config("dev", {**BASE[cloud], "mlops:serving": json.dumps(serving)})


def problems(serving, cloud="aws"):
    with pytest.raises(ConfigError) as caught:
        load(serving, cloud)
    return caught.value.problems


def test_off_by_default_with_scale_to_zero_and_canary_defaults():
    c = load_config("dev", BASE["aws"]).serving
    assert (c.enabled, c.min_replicas, c.canary.traffic_percent, c.canary.max_error_ratio) == (False, 0, 10, 0.01)


def test_enabled_with_its_keys_loads():
    c = load({**ENABLED, "canary": {"trafficPercent": 20, "maxP95Seconds": 0.25}}).serving
    assert c.enabled and c.canary.traffic_percent == 20 and c.canary.max_p95_seconds == 0.25


def test_enabled_without_image_and_model_names_both_keys():
    """Pipelines off: nothing but the config could name the first model, so storageUri is required."""
    lines = problems({"enabled": True})
    assert len(lines) == 2
    assert any(line.startswith("Pulumi.dev.yaml: mlops:serving.runtimeImage") and "images/mlserver" in line for line in lines)
    assert any("mlops:serving.storageUri" in line and "mlops:pipelines" in line for line in lines)


PIPELINES = {"enabled": True, "image": "registry.example.com/mlops-pipelines:1.0.0", "modelName": "churn",
             "featuresPath": "s3://features/churn.parquet", "label": "churned", "entity": "customer_id"}


def test_with_the_pipeline_on_serving_needs_no_first_model():
    """Serving installs before the first model exists: the pipeline's canary rollout creates the service."""
    serving = {"enabled": True, "runtimeImage": ENABLED["runtimeImage"]}
    c = load_config("dev", {**BASE["aws"], "mlops:serving": json.dumps(serving),
                            "mlops:pipelines": json.dumps(PIPELINES)}).serving
    assert c.enabled and c.storage_uri is None
    with pytest.raises(ConfigError) as caught:  # the pipeline without an image runs no rollout
        load_config("dev", {**BASE["aws"], "mlops:serving": json.dumps(serving),
                            "mlops:pipelines": json.dumps({k: v for k, v in PIPELINES.items() if k != "image"})})
    assert any("mlops:serving.storageUri" in line for line in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("cloud, uri, allowed", [
    ("aws", "gs://b/m", "s3://"), ("gcp", "s3://b/m", "gs://"),
    ("azure", "https://example.com/m", "blob.core.windows.net"),
])
def test_storage_uri_must_be_the_clouds_object_store(cloud, uri, allowed):
    [line] = problems({**ENABLED, "storageUri": uri}, cloud)
    assert "mlops:serving.storageUri" in line and uri in line and allowed in line


@pytest.mark.parametrize("key, value, words", [
    ("runtimeImage", "registry.example.com/mlserver", ["mlops:serving.runtimeImage"]),
    ("serviceName", "Churn_Model", ["mlops:serving.serviceName", "Churn_Model"]),
    ("canary", {"trafficPercent": 100}, ["mlops:serving.canary.trafficPercent", "100"]),
    ("canary", {"maxErrorRatio": 1.5}, ["mlops:serving.canary.maxErrorRatio"]),
    ("canary", {"analysisSeconds": 5}, ["mlops:serving.canary.analysisSeconds"]),
    ("minReplicas", 5, ["mlops:serving.minReplicas", "5", "maxReplicas"]),
    ("replicas", 2, ["mlops:serving.replicas"]),
])
def test_bad_value_is_one_line_naming_key_and_value(key, value, words):
    [line] = problems({**ENABLED, key: value})
    assert line.startswith("Pulumi.dev.yaml: ") and all(w in line for w in words), line
