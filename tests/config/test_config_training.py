"""mlops:training (distributed training on spot): off by default; when on, its pools and columns checked
with one line per problem naming the key."""

import json

import pytest

from stacks.config import ConfigError, load_config
from stacks.config_training import job_pools

POOLS = [{"name": "cpu-spot", "accelerator": "none", "instanceTypes": ["m6i.2xlarge", "m6a.2xlarge"], "maxNodes": 4, "spot": True},
         {"name": "gpu-spot", "accelerator": "nvidia-gpu", "instanceTypes": ["g5.xlarge", "g6.xlarge"], "maxNodes": 2, "spot": True},
         {"name": "cpu-steady", "accelerator": "none", "instanceTypes": ["m6i.2xlarge"], "maxNodes": 2, "spot": False}]
ENABLED = {"enabled": True, "label": "churned", "entity": "customer_id"}


def load(training, pools=POOLS):
    return load_config("dev", {"mlops:cloud": "aws", "mlops:region": "us-east-1",
                               "mlops:trainingPools": json.dumps(pools), "mlops:training": json.dumps(training)})


def problems(training, pools=POOLS):
    with pytest.raises(ConfigError) as caught:
        load(training, pools)
    return caught.value.problems


def test_off_by_default():
    c = load_config("dev", {"mlops:cloud": "aws", "mlops:region": "us-east-1"}).training
    assert (c.enabled, c.workers, c.checkpoint_every, c.max_failures, c.backoff_limit) == (False, 2, 50, 5, 2)


def test_enabled_renders_a_job_for_every_spot_pool_unless_pools_name_them():
    assert [p.name for p in job_pools(load(ENABLED))] == ["cpu-spot", "gpu-spot"]
    assert [p.name for p in job_pools(load({**ENABLED, "pools": ["gpu-spot"]}))] == ["gpu-spot"]


@pytest.mark.parametrize("training, words", [
    ({**ENABLED, "pools": ["nope"]}, ["mlops:training.pools[0]", '"nope"', "not a training pool", "cpu-spot"]),
    ({**ENABLED, "pools": ["cpu-steady"]}, ["mlops:training.pools[0]", "on-demand"]),
    ({**ENABLED, "checkpointEvery": 500, "steps": 100}, ["mlops:training.checkpointEvery", "500", "<= training.steps"]),
    ({"enabled": True, "entity": "customer_id"}, ["mlops:training.label", "is required"]),
    ({**ENABLED, "workers": 0}, ["mlops:training.workers", "0"]),
    ({**ENABLED, "maxFailures": -1}, ["mlops:training.maxFailures"]),
    ({**ENABLED, "imageTag": "latest tag"}, ["mlops:training.imageTag"]),
    ({**ENABLED, "workerCpus": 4}, ["mlops:training.workerCpus"]),
])
def test_bad_values_are_one_line_naming_the_key(training, words):
    lines = problems(training)
    assert len(lines) == 1, lines
    assert all(word in lines[0] for word in words), lines[0]
    assert lines[0].startswith("Pulumi.dev.yaml: ")


def test_no_spot_pool_at_all_is_refused():
    lines = problems(ENABLED, pools=[POOLS[2]])
    assert any("mlops:training.enabled" in line and "spot: true" in line for line in lines), lines
