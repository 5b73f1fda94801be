"""MLflow tracking server: replicas and PDB per environment, probes, auth, secret references, identity."""

from __future__ import annotations

import pytest
from k8s_helpers import DB_SECRET, MLFLOW_IMAGE, MLFLOW_ROLE, VPC, containers, env_of, mlflow_args, named, pod_spec, preview_components

from components.k8s import MLFLOW_ADMIN_SECRET, PRIORITY_SERVING, TRACKING_URL
from components.k8s.mlflow import MlflowServer, allowed_hosts
from mlops_tools.engine.preview import PreviewError

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def server_container(deployment):
    return next(c for c in pod_spec(deployment)["containers"] if c["name"] == "mlflow")


def test_prod_runs_two_replicas_spread_over_zones_with_a_disruption_budget(prod):
    deployment = named(prod, DEPLOYMENT, "mlflow", "mlops")
    spec = deployment["inputs"]["spec"]
    assert spec["replicas"] >= 2
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    zones = [c for c in pod_spec(deployment)["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zones and zones[0]["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    pdb = named(prod, "kubernetes:policy/v1:PodDisruptionBudget", "mlflow", "mlops")
    assert pdb["inputs"]["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert pdb["inputs"]["spec"]["maxUnavailable"] == 1
    assert pod_spec(deployment)["priorityClassName"] == PRIORITY_SERVING


def test_dev_runs_one_replica(dev):
    assert named(dev, DEPLOYMENT, "mlflow", "mlops")["inputs"]["spec"]["replicas"] == 1


def test_probes_use_the_health_endpoint_with_a_startup_allowance(prod):
    container = server_container(named(prod, DEPLOYMENT, "mlflow", "mlops"))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}, probe
    startup = container["startupProbe"]
    # Migrations run in the init container; the server only loads MLflow and checks the schema.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180


def test_server_command_serves_artifacts_from_the_object_store_with_basic_auth(prod):
    command = server_container(named(prod, DEPLOYMENT, "mlflow", "mlops"))["command"]
    assert command[:2] == ["mlflow", "server"]
    assert command[command.index("--artifacts-destination") + 1] == "s3://mlops-prod-artifacts/mlflow"
    assert "--serve-artifacts" in command
    assert command[command.index("--app-name") + 1] == "basic-auth"
    hosts = command[command.index("--allowed-hosts") + 1].split(",")
    assert "mlflow.mlops.svc.cluster.local:5000" in hosts and "*" not in hosts


def test_database_uri_and_credentials_come_from_secrets(prod):
    deployment = named(prod, DEPLOYMENT, "mlflow", "mlops")
    init, migrate, server = list(containers(deployment))
    for container in (init, migrate, server):
        assert env_of(container)["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"] == {"name": DB_SECRET.name, "key": DB_SECRET.key}
    assert env_of(init)["MLFLOW_AUTH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": MLFLOW_ADMIN_SECRET, "key": "password"}
    assert "MLFLOW_AUTH_ADMIN_PASSWORD" not in env_of(server)  # the server reads the ini, never the password
    assert env_of(server)["MLFLOW_FLASK_SERVER_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-session-key"
    assert env_of(server)["PGSSLMODE"]["value"] == "require"
    auth_volume = next(v for v in pod_spec(deployment)["volumes"] if v["name"] == "auth-config")
    assert auth_volume["emptyDir"]["medium"] == "Memory"
    admin = named(prod, "kubernetes:core/v1:Secret", MLFLOW_ADMIN_SECRET, "mlops")
    assert set(admin["inputs"]["stringData"]) == {"username", "password"}


def test_service_account_carries_the_workload_identity_annotation(prod):
    account = named(prod, "kubernetes:core/v1:ServiceAccount", "mlflow", "mlops")
    assert account["inputs"]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": MLFLOW_ROLE}
    assert pod_spec(named(prod, DEPLOYMENT, "mlflow", "mlops"))["serviceAccountName"] == "mlflow"


def test_service_is_cluster_internal_and_the_load_balancer_is_internal(prod, dev):
    service = named(prod, "kubernetes:core/v1:Service", "mlflow", "mlops")
    assert service["inputs"]["spec"]["type"] == "ClusterIP"
    assert service["inputs"]["spec"]["ports"][0]["port"] == 5000
    assert TRACKING_URL == "http://mlflow.mlops.svc.cluster.local:5000"
    lb = named(prod, "kubernetes:core/v1:Service", "mlflow-internal", "mlops")
    assert lb["inputs"]["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internal"
    assert lb["inputs"]["spec"]["loadBalancerSourceRanges"] == [VPC]
    assert [s["inputs"]["metadata"]["name"] for s in dev.by_type("kubernetes:core/v1:Service")
            if s["inputs"]["spec"]["type"] == "LoadBalancer"] == []


def test_network_policy_limits_database_egress_to_its_network(prod):
    policy = named(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "mlflow", "mlops")
    egress = policy["inputs"]["spec"]["egress"]
    database = next(rule for rule in egress if rule["ports"] == [{"protocol": "TCP", "port": 5432}])
    assert database["to"] == [{"ipBlock": {"cidr": VPC}}]
    assert all(rule["ports"] for rule in egress)  # no port left open to the world
    sources = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for peer in policy["inputs"]["spec"]["ingress"][0]["from"]]
    assert sorted(sources) == ["mlops", "monitoring", "serving", "training"]


def test_allowed_hosts_cover_service_names_and_extra_names():
    hosts = allowed_hosts(["mlflow.internal.example.com"])
    assert {"mlflow", "mlflow:5000", "mlflow.internal.example.com", "mlflow.internal.example.com:5000"} <= set(hosts)


@pytest.mark.parametrize("overrides, message", [
    ({"environment": "prod", "replicas": 1}, "replicas must be >= 2 in prod"),
    ({"image": "ghcr.io/mlflow/mlflow:latest"}, "must be pinned"),
    ({"image": "ghcr.io/mlflow/mlflow:v2.22.1"}, "use the official '-full' image of MLflow >= 3.9"),
    ({"image": "ghcr.io/mlflow/mlflow:v3.10.1"}, "use the official '-full' image of MLflow >= 3.9"),
    ({"extra_env": {"AWS_SECRET_ACCESS_KEY": "abc"}}, "looks like a credential"),
    ({"internal_load_balancer_annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
      "load_balancer_source_ranges": [VPC]}, "must make the load balancer internal"),
    ({"database_cidrs": ["0.0.0.0/0"]}, "not a private range"),
    ({"database_extensions": ["pgaudit; DROP TABLE runs"]}, "must be a PostgreSQL extension name"),
])
def test_unsafe_inputs_stop_the_preview_with_one_line(overrides, message):
    with pytest.raises(PreviewError) as error:
        preview_components(lambda opts: MlflowServer("mlflow", mlflow_args(**overrides), opts=opts))
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "Traceback" not in str(error.value)


def test_image_is_the_pinned_input(prod):
    assert {c["image"] for c in containers(named(prod, DEPLOYMENT, "mlflow", "mlops"))} == {MLFLOW_IMAGE}


def test_migrations_run_once_in_an_init_container_before_the_server(prod):
    """Issue 9 item 18: the servers must not migrate a fresh database concurrently (workers, replicas)."""
    deployment = named(prod, DEPLOYMENT, "mlflow", "mlops")
    init = pod_spec(deployment)["initContainers"]
    assert [c["name"] for c in init] == ["auth-config", "migrate"]
    migrate = init[1]
    script = migrate["command"][2]
    assert migrate["command"][:2] == ["python", "-c"] and migrate["image"] == MLFLOW_IMAGE
    assert "pg_advisory_lock" in script and "_upgrade_db" in script and "init_db" in script
    env = env_of(migrate)
    assert env["MLFLOW_METRICS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "mlflow-scrape", "key": "password"}
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": MLFLOW_ADMIN_SECRET, "key": "password"}
    assert "MLFLOW_METRICS_PASSWORD" not in env_of(server_container(deployment))
    scrape = named(prod, "kubernetes:core/v1:Secret", "mlflow-scrape", "mlops")
    assert prod.is_secret(scrape["urn"], "stringData")


def test_the_migrate_step_creates_the_database_extensions_it_is_given_under_the_lock(prod):
    """Cloud SQL's pgAudit needs CREATE EXTENSION in MLflow's database (CKV_GCP_110): the migrate step does it
    for the names it gets, and writes nothing for a backend that needs none (AWS, Azure)."""
    assert "MLOPS_DB_EXTENSIONS" not in env_of(pod_spec(named(prod, DEPLOYMENT, "mlflow", "mlops"))["initContainers"][1])
    result = preview_components(lambda opts: MlflowServer("mlflow", mlflow_args(database_extensions=["pgaudit"]), opts=opts))
    migrate = pod_spec(named(result, DEPLOYMENT, "mlflow", "mlops"))["initContainers"][1]
    assert env_of(migrate)["MLOPS_DB_EXTENSIONS"]["value"] == "pgaudit"
    script = migrate["command"][2]
    assert script.index("pg_advisory_lock") < script.index("CREATE EXTENSION IF NOT EXISTS") < script.index("_upgrade_db(engine)")


@pytest.mark.parametrize("image, pinned", [
    ("docker.io/prom/pushgateway:v1.11.1@sha256:" + "a" * 64, True),  # tag for people, digest for the runtime
    ("prom/pushgateway@sha256:" + "a" * 64, True),
    ("prom/pushgateway:v1.11.1", True),
    ("prom/pushgateway:latest", False),
    ("prom/pushgateway:v1.11.1@sha256:abc", False),  # a truncated digest
    ("prom/pushgateway", False),
])
def test_images_pin_a_version_a_digest_or_both(image, pinned):
    from components.k8s._common import InvalidInput, require_pinned_image

    if pinned:
        assert require_pinned_image(image, "test") == image
    else:
        with pytest.raises(InvalidInput, match="must be pinned"):
            require_pinned_image(image, "test")
