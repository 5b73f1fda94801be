"""Feast feature server: config rendered from inputs, secrets as placeholders only, probes, PDB, identity."""

from __future__ import annotations

import pytest
import yaml
from k8s_helpers import FEAST_ROLE, env_of, feast_args, named, pod_spec, preview_components

from components.k8s import FEATURE_SERVER_URL, SecretKeyRef
from components.k8s.feast import FeatureServer
from mlops_tools.engine.preview import PreviewError

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def feature_store_yaml(result):
    return yaml.safe_load(named(result, "kubernetes:core/v1:ConfigMap", "feast-config", "mlops")["inputs"]["data"]["feature_store.yaml"])


def test_feature_store_config_is_rendered_from_the_inputs(prod):
    config = feature_store_yaml(prod)
    assert config["project"] == "mlops" and config["provider"] == "aws"
    assert config["registry"] == {"registry_type": "file", "path": "s3://mlops-prod-features/registry.db", "cache_ttl_seconds": 60}
    assert config["online_store"] == {"type": "dynamodb", "region": "eu-west-1", "table_name_template": "mlops-{project}.{table_name}"}


def test_pods_mount_the_config_and_roll_when_it_changes(prod):
    deployment = named(prod, DEPLOYMENT, "feast", "mlops")
    volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
    assert volumes["config"]["configMap"]["name"] == "feast-config"
    annotations = deployment["inputs"]["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["mlops.dev/config-hash"]) == 16
    command = pod_spec(deployment)["containers"][0]["command"]
    assert command[:4] == ["feast", "--chdir", "/feature_repo", "serve"] and "--metrics" in command


def test_replicas_probes_and_disruption_budget(prod, dev):
    deployment = named(prod, DEPLOYMENT, "feast", "mlops")
    assert deployment["inputs"]["spec"]["replicas"] >= 2
    assert named(dev, DEPLOYMENT, "feast", "mlops")["inputs"]["spec"]["replicas"] == 1
    container = pod_spec(deployment)["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    pdb = named(prod, "kubernetes:policy/v1:PodDisruptionBudget", "feast", "mlops")
    assert pdb["inputs"]["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "feast"}


def test_workload_identity_and_url(prod):
    account = named(prod, "kubernetes:core/v1:ServiceAccount", "feast", "mlops")
    assert account["inputs"]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": FEAST_ROLE}
    assert FEATURE_SERVER_URL == "http://feast.mlops.svc.cluster.local:6566"
    service = named(prod, "kubernetes:core/v1:Service", "feast", "mlops")
    assert {p["name"]: p["port"] for p in service["inputs"]["spec"]["ports"]} == {"http": 6566, "metrics": 8000}


def test_redis_password_stays_a_placeholder_filled_from_a_secret():
    args = feast_args("dev", provider="azure", registry_path="https://acct.blob.core.windows.net/feast/registry.db",
                      registry_store_type="AzureRegistryStore",
                      online_store={"type": "redis", "connection_string": "${REDIS_CONNECTION}"},
                      secret_env={"REDIS_CONNECTION": SecretKeyRef("feast-redis", "connection-string")},
                      egress_ports=(443, 6380))
    result = preview_components(lambda opts: FeatureServer("feast", args, opts=opts))
    assert feature_store_yaml(result)["online_store"]["connection_string"] == "${REDIS_CONNECTION}"
    assert feature_store_yaml(result)["registry"]["registry_store_type"] == "AzureRegistryStore"
    env = env_of(pod_spec(named(result, DEPLOYMENT, "feast", "mlops"))["containers"][0])
    assert env["REDIS_CONNECTION"]["valueFrom"]["secretKeyRef"] == {"name": "feast-redis", "key": "connection-string"}
    egress = named(result, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "feast", "mlops")["inputs"]["spec"]["egress"]
    assert egress[0]["ports"] == [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6380}]


@pytest.mark.parametrize("overrides, message", [
    ({"online_store": {"type": "redis", "connection_string": "redis:6380,password=hunter2"}}, "would put a credential"),
    ({"online_store": {"type": "redis", "connection_string": "${REDIS}"}}, "neither secret_env nor extra_env defines it"),
    ({"provider": "oracle"}, "must be one of aws, gcp, azure, local"),
    ({"online_store": {"region": "eu-west-1"}}, "with a 'type'"),
])
def test_bad_store_config_is_refused(overrides, message):
    with pytest.raises(PreviewError) as error:
        preview_components(lambda opts: FeatureServer("feast", feast_args(**overrides), opts=opts))
    assert message in str(error.value)
