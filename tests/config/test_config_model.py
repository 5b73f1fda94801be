"""The stack config model: every rule, with a good and a bad value, and the one-line messages."""

import json
from pathlib import Path

import pytest
import yaml

from stacks.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def cfg(**overrides):
    base = {"mlops:cloud": "aws", "mlops:region": "us-east-1"}
    base.update({f"mlops:{k}": (json.dumps(v) if isinstance(v, (dict, list)) else str(v)) for k, v in overrides.items()})
    return base


def problems(stack="dev", **overrides):
    with pytest.raises(ConfigError) as caught:
        load_config(stack, cfg(**overrides))
    return caught.value.problems


def pool(**kw):
    return {"name": "cpu", "instanceTypes": ["m6i.large", "m6a.large"], "minNodes": 0, "maxNodes": 2, **kw}


PROD_OK = dict(environment="prod", deletionProtection="true", dr={"enabled": True, "replicaRegion": "us-west-2"})


def test_minimal_dev_config_gets_environment_defaults():
    c = load_config("dev", cfg())
    assert (c.environment, c.az_count, c.nat_gateway_per_az, c.multi_az_database) == ("dev", 2, False, False)
    assert c.cost_tags == {"environment": "dev", "owner": "ml-platform", "managed-by": "pulumi"}


def test_prod_defaults_are_highly_available():
    c = load_config("prod", cfg(**PROD_OK))
    assert (c.az_count, c.nat_gateway_per_az, c.multi_az_database, c.backup_retention_days) == (3, True, True, 14)


def test_unknown_cloud_is_one_line_naming_file_key_value_and_allowed():
    [line] = problems(cloud="awz")
    assert line == "Pulumi.dev.yaml: mlops:cloud = \"awz\": Input should be 'aws', 'azure' or 'gcp'"


def test_inverted_pool_range_names_the_indexed_key():
    [line] = problems(trainingPools=[pool(), pool(name="big", minNodes=5, maxNodes=3)])
    assert line == "Pulumi.dev.yaml: mlops:trainingPools[1].maxNodes = 3: must be >= minNodes (5)"


def test_dr_region_equal_to_primary_is_rejected():
    [line] = problems(dr={"enabled": True, "replicaRegion": "us-east-1"})
    assert "mlops:dr.replicaRegion = \"us-east-1\": must differ from the primary region us-east-1" in line


def test_all_problems_reported_together_even_when_cloud_is_bad():
    lines = problems(cloud="awz", dr={"enabled": True, "replicaRegion": "us-east-1"},
                     trainingPools=[pool(minNodes=3, maxNodes=1)])
    assert len(lines) == 3
    assert [line.split(" = ")[0] for line in lines] == [
        "Pulumi.dev.yaml: mlops:cloud", "Pulumi.dev.yaml: mlops:dr.replicaRegion", "Pulumi.dev.yaml: mlops:trainingPools[0].maxNodes"]


@pytest.mark.parametrize("cloud,region,ok", [
    ("aws", "eu-west-1", True), ("aws", "westeurope", False),
    ("azure", "westeurope", True), ("azure", "us-east-1", False),
    ("gcp", "europe-west4", True), ("gcp", "eu-west-1", False),
])
def test_region_must_belong_to_the_cloud(cloud, region, ok):
    values = {"mlops:cloud": cloud, "mlops:region": region}
    if ok:
        assert load_config("dev", values).region == region
    else:
        with pytest.raises(ConfigError, match=f"mlops:region = \"{region}\": must be a {cloud} region"):
            load_config("dev", values)


def test_dr_replica_region_must_be_valid_for_the_cloud():
    [line] = problems(dr={"enabled": True, "replicaRegion": "westus2"})
    assert "mlops:dr.replicaRegion = \"westus2\": must be a aws region" in line


def test_dr_enabled_needs_a_replica_region():
    [line] = problems(dr={"enabled": True})
    assert "mlops:dr.replicaRegion = (missing): is required when dr.enabled is true" in line


def test_rto_shorter_than_rpo_is_rejected():
    [line] = problems(dr={"rpoMinutes": 30, "rtoMinutes": 10})
    assert "mlops:dr.rtoMinutes = 10: must be >= rpoMinutes (30)" in line


def test_prod_requires_dr_and_deletion_protection():
    lines = problems("prod", environment="prod")
    assert any("mlops:dr.enabled = false: must be true in prod" in l for l in lines)
    assert any("mlops:deletionProtection = false: must be true in prod" in l for l in lines)
    assert all(l.startswith("Pulumi.prod.yaml: ") for l in lines)


def test_prod_rejects_explicitly_weakened_ha():
    lines = problems("prod", **PROD_OK, tracking={"multiAz": False}, network={"azCount": 2, "natGatewayPerAz": False})
    keys = sorted(l.split(" = ")[0].split(": ")[1] for l in lines)
    assert keys == ["mlops:network.azCount", "mlops:network.natGatewayPerAz", "mlops:tracking.multiAz"]


def test_public_endpoint_only_in_dev_and_never_to_the_internet():
    assert problems(cluster={"publicAccessCidrs": ["0.0.0.0/0"]}) == [
        "Pulumi.dev.yaml: mlops:cluster.publicAccessCidrs[0] = \"0.0.0.0/0\": must be a specific range (/8 or narrower), never the whole internet"]
    assert load_config("dev", cfg(cluster={"publicAccessCidrs": ["203.0.113.0/24"]})).cluster.public_access_cidrs
    lines = problems("staging", environment="staging", cluster={"publicAccessCidrs": ["203.0.113.0/24"]})
    assert "public API access is allowed in dev only" in lines[0]


def test_pool_rules():
    assert "must be unique" in problems(trainingPools=[pool(), pool()])[0]
    assert "at least 2 instance types" in problems(trainingPools=[pool(instanceTypes=["m6i.large"])])[0]
    assert load_config("dev", cfg(trainingPools=[pool(instanceTypes=["m6i.large"], spot=False)])).training_pools[0].spot is False
    assert "must be an NVIDIA GPU instance type on aws" in problems(trainingPools=[pool(accelerator="nvidia-gpu")])[0]
    assert "set accelerator: nvidia-gpu" in problems(trainingPools=[pool(instanceTypes=["g5.xlarge", "g6.xlarge"])])[0]
    assert "String should match pattern" in problems(trainingPools=[pool(name="CPU_pool")])[0]


def test_scalars_arrive_as_strings_like_the_cli_passes_them():
    c = load_config("dev", cfg(deletionProtection="true", trainingPools=[pool(maxNodes="7")]))
    assert c.deletion_protection is True and c.training_pools[0].max_nodes == 7


def test_unknown_key_is_reported_as_probable_typo():
    [line] = problems(trainingPool=[pool()])
    assert line.startswith("Pulumi.dev.yaml: mlops:trainingPool = ") and "unknown key" in line


def test_nested_type_errors_name_the_nested_key():
    [line] = problems(network={"cidr": "8.8.0.0/16"})
    assert line == "Pulumi.dev.yaml: mlops:network.cidr = \"8.8.0.0/16\": must be a private (RFC 1918) range"


def test_waivers_need_every_field_and_a_date():
    lines = problems(waivers=[{"policy": "p", "resource": "r", "reason": "because it is needed", "owner": "me", "expires": "soon"}])
    assert "mlops:waivers[0].expires = \"soon\"" in lines[0]
    lines = problems(waivers=[{"policy": "p", "resource": "r"}])
    assert sorted(l.split(" = ")[0].rsplit(".", 1)[1] for l in lines) == ["expires", "owner", "reason"]


@pytest.mark.parametrize("key, image_key", [
    ("tracking", "mlflowImage"), ("features", "feastImage"), ("serving", "runtimeImage"), ("pipelines", "image")])
def test_every_image_key_refuses_latest_and_takes_a_tag_a_digest_or_both(key, image_key):
    """One rule for every image the config names (stacks/config_base.py): `:latest` cannot be deployed twice alike;
    `repo:tag@sha256:...` (the strongest pin) used to be refused by mlflowImage and feastImage."""
    lines = problems(**{key: {image_key: "registry.example.com/team/image:latest"}})
    assert any(f"mlops:{key}.{image_key}" in line and "must pin a version or digest, not :latest" in line for line in lines), lines
    digest = "sha256:" + "0123456789abcdef" * 4
    for pinned in (f"registry.example.com/team/image:1.2.3@{digest}", f"registry.example.com/team/image@{digest}"):
        load_config("dev", cfg(**{key: {image_key: pinned}}))


def test_access_mlflow_image_refuses_latest():
    from stacks.access_config import AccessConfig
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not :latest"):
        AccessConfig(mlflow_image="registry.example.com/mlflow-oidc:latest")
    assert AccessConfig(mlflow_image="registry.example.com/mlflow-oidc:3.10.1@sha256:" + "ab" * 32).mlflow_image


@pytest.mark.parametrize("stack_file", sorted(ROOT.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_every_stack_file_in_the_repo_is_valid(stack_file):
    from mlops_tools.engine.preview import load_stack_config
    stack = stack_file.name[len("Pulumi."):-len(".yaml")]
    _, config = load_stack_config(ROOT, stack)
    assert load_config(stack, config.values).cloud in ("aws", "azure", "gcp")


def test_project_file_declares_every_config_key_of_the_model():
    from stacks.config import PlatformConfig
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    expected = {f"mlops:{field.alias or name}" for name, field in PlatformConfig.model_fields.items()}
    assert declared == expected


@pytest.mark.parametrize("cloud,region,node,db", [
    ("aws", "us-east-1", "m6i.large", "db.t4g.medium"),
    ("azure", "westeurope", "Standard_D4s_v5", "Standard_D2ds_v5"),
    ("gcp", "europe-west4", "e2-standard-4", "db-custom-2-7680"),
])
def test_sizes_default_per_cloud_and_can_be_set(cloud, region, node, db):
    c = load_config("dev", {"mlops:cloud": cloud, "mlops:region": region})
    assert (c.system_node_instance_type, c.db_instance_class) == (node, db)
    c = load_config("dev", {"mlops:cloud": cloud, "mlops:region": region, "mlops:tracking": '{"dbInstanceClass": "x-large"}'})
    assert c.db_instance_class == "x-large"


AZURE = {"mlops:cloud": "azure", "mlops:region": "westeurope"}


def test_azure_settings_default_to_az_cli_login_and_the_deployer_as_database_admin():
    c = load_config("azure-dev", AZURE)
    assert (c.azure.kubelogin_mode, c.azure.postgres_entra_admin) == ("azurecli", None)
    assert c.azure.defender_for_containers is True  # image scanning on unless a stack opts out (and waives the rule)
    admin = {"objectId": "55555555-5555-4555-8555-555555555555", "principalName": "mlops-db-operators"}
    c = load_config("azure-dev", {**AZURE, "mlops:azure": json.dumps({"kubeloginMode": "workloadidentity",
                                                                       "postgresEntraAdmin": admin})})
    assert c.azure.kubelogin_mode == "workloadidentity"
    assert (c.azure.postgres_entra_admin.object_id, c.azure.postgres_entra_admin.principal_type) == \
        (admin["objectId"], "group")


@pytest.mark.parametrize("value, expected", [
    ({"kubeloginMode": "devicecode"}, "mlops:azure.kubeloginMode = \"devicecode\": Input should be 'azurecli'"),
    ({"postgresEntraAdmin": {"objectId": "ops-team", "principalName": "ops"}},
     "mlops:azure.postgresEntraAdmin.objectId = \"ops-team\": String should match pattern"),
    ({"postgresEntraAdmin": {"objectId": "55555555-5555-4555-8555-555555555555", "principalName": "ops",
                             "principalType": "app"}},
     "mlops:azure.postgresEntraAdmin.principalType = \"app\": Input should be 'group', 'user' or 'servicePrincipal'"),
])
def test_bad_azure_settings_name_the_key_and_what_is_allowed(value, expected):
    with pytest.raises(ConfigError) as caught:
        load_config("azure-dev", {**AZURE, "mlops:azure": json.dumps(value)})
    assert [p for p in caught.value.problems if expected in p], caught.value.problems
    assert all(p.startswith("Pulumi.azure-dev.yaml: ") for p in caught.value.problems)


def test_platform_pool_defaults_per_environment_and_explicit_sizes():
    from stacks.config_delivery import platform_pool_size
    assert platform_pool_size(load_config("azure-dev", AZURE)) == ("Standard_D4s_v5", 1, 3)
    assert platform_pool_size(load_config("azure-staging", {**AZURE, "mlops:environment": "staging"})) == \
        ("Standard_D4s_v5", 2, 6)
    sized = {"platformPool": {"instanceType": "Standard_D8s_v5", "minNodes": 5}}
    assert platform_pool_size(load_config("azure-dev", {**AZURE, "mlops:azure": json.dumps(sized)})) == \
        ("Standard_D8s_v5", 5, 5)  # a minimum above the default maximum raises the maximum with it


@pytest.mark.parametrize("pool, expected", [
    ({"minNodes": 4, "maxNodes": 2}, 'mlops:azure.platformPool.maxNodes = 2: must be >= minNodes (4)'),
    ({"minNodes": 0}, "mlops:azure.platformPool.minNodes = 0: Input should be greater than or equal to 1"),
    ({"instanceType": "Standard_D4z_v9"}, 'mlops:azure.platformPool.instanceType = "Standard_D4z_v9": '),
])
def test_bad_platform_pool_names_the_key(pool, expected):
    with pytest.raises(ConfigError) as caught:
        load_config("azure-dev", {**AZURE, "mlops:azure": json.dumps({"platformPool": pool})})
    assert [p for p in caught.value.problems if expected in p], caught.value.problems


def test_azure_settings_on_another_cloud_are_refused():
    assert problems(azure={"kubeloginMode": "spn"}) == [
        'Pulumi.dev.yaml: mlops:azure = {"kubeloginMode": "spn"}: is for azure stacks only (this stack\'s cloud is aws); '
        "remove it"]


@pytest.mark.parametrize("cloud, region", [("azure", "westeurope"), ("gcp", "europe-west4")])
def test_alert_emails_on_azure_and_gcp_need_a_mail_relay(cloud, region):
    base = {"mlops:cloud": cloud, "mlops:region": region}
    with pytest.raises(ConfigError) as caught:
        load_config("x", {**base, "mlops:monitoring": json.dumps({"alertEmails": ["oncall@example.com"]})})
    assert caught.value.problems == [
        f"Pulumi.x.yaml: mlops:monitoring.alertSmtp = (missing): is required on {cloud} when alertEmails is set: "
        "Alertmanager mails the in-cluster alerts through this relay ({smarthost, sender, username?})"]
    relay = {"alertEmails": ["oncall@example.com"], "alertSmtp": {"smarthost": "smtp.example.com:587",
                                                                  "sender": "alerts@example.com"}}
    assert load_config("x", {**base, "mlops:monitoring": json.dumps(relay)}).monitoring.alert_smtp.smarthost == \
        "smtp.example.com:587"


def test_smtp_auth_needs_the_secret_password_and_bad_relays_are_named():
    relay = {"smarthost": "smtp.example.com:587", "sender": "alerts@example.com", "username": "mlops"}
    assert problems(monitoring={"alertSmtp": relay}) == [
        "Pulumi.dev.yaml: mlops:alertSmtpPassword = (missing): is required when monitoring.alertSmtp.username is set "
        "(pulumi config set --secret mlops:alertSmtpPassword ...)"]
    assert problems(monitoring={"alertSmtp": {"smarthost": "smtp.example.com", "sender": "alerts@example.com"}})[0] \
        .startswith('Pulumi.dev.yaml: mlops:monitoring.alertSmtp.smarthost = "smtp.example.com": String should match')
