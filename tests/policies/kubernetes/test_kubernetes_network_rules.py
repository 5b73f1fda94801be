"""Required egress: a workload under default-deny can reach its workload-identity endpoint and its named services."""
import base64
from pathlib import Path

from mlops_kubernetes_policies.network import workload_identity_egress as egress
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import Res, check_stack, resource

RULE = egress.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "kubernetes"
NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
LABELS = {"app.kubernetes.io/name": "mlflow"}


def deployment(name="mlflow", env=(), volumes=(), args=(), labels=LABELS, sa="mlflow"):
    container = {"name": name, "image": "x@sha256:" + "0" * 64, "args": list(args), "env": list(env)}
    return Res("kubernetes:apps/v1:Deployment", name, {"metadata": {"name": name, "namespace": "mlops"}, "spec": {
        "selector": {"matchLabels": labels}, "template": {"metadata": {"labels": dict(labels)}, "spec": {
            "serviceAccountName": sa, "containers": [container], "volumes": list(volumes)}}}})


def account(annotations, name="mlflow"):
    return Res("kubernetes:core/v1:ServiceAccount", f"sa-{name}",
               {"metadata": {"name": name, "namespace": "mlops", "annotations": annotations}})


def policy(name, egress_rules, selector=None):
    return Res(NP, name, {"metadata": {"name": name, "namespace": "mlops"}, "spec": {
        "podSelector": selector if selector is not None else {}, "policyTypes": ["Egress"], "egress": egress_rules}})


DENY = policy("default-deny", [])
HTTPS = policy("https", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}],
               {"matchLabels": LABELS})
METADATA_80 = policy("wi", [{"to": [{"ipBlock": {"cidr": "169.254.169.254/32"}}], "ports": [{"protocol": "TCP", "port": 80}]}])
GSA = account({"iam.gke.io/gcp-service-account": "mlflow@p.iam.gserviceaccount.com"})


def gke(datapath):
    props = {"location": "europe-west4"} | ({"datapathProvider": datapath} if datapath else {})
    return Res("gcp:container/cluster:Cluster", "gke", props)


def test_gke_workload_without_metadata_server_egress_fails_naming_the_dataplane_v2_endpoint():
    outcome = check_stack(RULE, [gke("ADVANCED_DATAPATH"), GSA, deployment(), DENY, HTTPS])
    assert outcome.violations == [("mlops/mlflow: its NetworkPolicies block egress to GKE metadata server "
                                   "(Workload Identity tokens) (169.254.169.254:80/TCP).", deployment().urn)]


def test_gke_workload_with_metadata_server_egress_passes():
    assert check_stack(RULE, [gke("ADVANCED_DATAPATH"), GSA, deployment(), DENY, HTTPS, METADATA_80]).passed


def test_without_dataplane_v2_the_metadata_server_is_on_988_so_port_80_is_not_enough():
    outcome = check_stack(RULE, [gke(None), GSA, deployment(), DENY, HTTPS, METADATA_80])
    assert "169.254.169.252:988/TCP" in outcome.messages[0]


def test_a_pod_naming_its_account_by_the_deprecated_service_account_field_is_checked_for_that_account():
    """`serviceAccount` is the deprecated alias Kubernetes still honours: the pod runs as that account's identity."""
    aliased = deployment()
    spec = aliased.props["spec"]["template"]["spec"]
    spec["serviceAccount"] = spec.pop("serviceAccountName")
    outcome = check_stack(RULE, [gke("ADVANCED_DATAPATH"), GSA, aliased, DENY, HTTPS])
    assert [message for message, _ in outcome.violations] == [
        "mlops/mlflow: its NetworkPolicies block egress to GKE metadata server (Workload Identity tokens) "
        "(169.254.169.254:80/TCP)."]


def test_irsa_needs_https_out_and_azure_needs_a_public_entra_address():
    irsa = account({"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/mlflow"})
    assert "STS" in check_stack(RULE, [irsa, deployment(), DENY]).messages[0]
    assert check_stack(RULE, [irsa, deployment(), DENY, HTTPS]).passed
    private_only = policy("vnet", [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 443}]}])
    entra = account({"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"})
    assert "login.microsoftonline.com" in check_stack(RULE, [entra, deployment(), DENY, private_only]).messages[0]
    assert check_stack(RULE, [entra, deployment(), DENY, HTTPS]).passed


def test_redis_port_named_through_a_secret_in_a_mounted_config_must_be_open():
    config = Res("kubernetes:core/v1:ConfigMap", "feast-config", {"metadata": {"name": "feast", "namespace": "mlops"}, "data": {
        "feature_store.yaml": "online_store:\n  type: redis\n  connection_string: ${REDIS}\n"}})
    secret = Res("kubernetes:core/v1:Secret", "online", {"metadata": {"name": "online", "namespace": "mlops"}, "data": {
        "cs": base64.b64encode(b"cache.example:6380,ssl=True,password=x").decode()}})
    feast = deployment(env=[{"name": "REDIS", "valueFrom": {"secretKeyRef": {"name": "online", "key": "cs"}}}],
                       volumes=[{"name": "config", "configMap": {"name": "feast"}}])
    outcome = check_stack(RULE, [config, secret, feast, DENY, HTTPS])
    assert outcome.messages == ["mlops/mlflow: its NetworkPolicies block egress to Redis named in its config (external:6380/TCP)."]
    redis = policy("redis", [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 6380}]}])
    assert check_stack(RULE, [config, secret, feast, DENY, HTTPS, redis]).passed


def test_postgres_and_object_store_named_in_args_and_env_must_be_open():
    app = deployment(args=["--artifacts-destination", "gs://bucket/artifacts"],
                     env=[{"name": "DB", "value": "postgresql+psycopg2://u@db.internal:6432/mlflow"}])
    outcome = check_stack(RULE, [app, DENY])
    assert "PostgreSQL named in its config (external:6432/TCP)" in outcome.messages[0]
    assert "object store / cloud API named in its config (external:443/TCP)" in outcome.messages[0]
    database = policy("db", [{"to": [{"ipBlock": {"cidr": "10.1.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 6432}]}])
    assert check_stack(RULE, [app, DENY, HTTPS, database]).passed


def test_an_https_url_to_an_in_cluster_service_needs_no_outside_443_but_a_lookalike_host_does():
    inside = deployment(args=["--upstream", "https://argo-workflows-server.pipelines.svc.cluster.local:2746"])
    assert check_stack(RULE, [inside, DENY]).passed
    outside = deployment(args=["--upstream", "https://argo.svc.cluster.local.example.com/api"])
    assert "object store / cloud API named in its config (external:443/TCP)" in check_stack(RULE, [outside, DENY]).messages[0]


def test_policies_of_other_pods_or_namespaces_do_not_count_and_unrestricted_pods_pass():
    other = policy("other", [{"ports": [{"protocol": "TCP", "port": 80}]}], {"matchLabels": {"app": "x"}})
    assert check_stack(RULE, [gke("ADVANCED_DATAPATH"), GSA, deployment(), DENY, HTTPS, other]).violations
    assert check_stack(RULE, [gke("ADVANCED_DATAPATH"), GSA, deployment()]).passed


def test_the_rule_reports_through_the_analyzer_protocol():
    resources = [resource(r.type, r.name, r.props) for r in (gke("ADVANCED_DATAPATH"), GSA, deployment(), DENY, HTTPS)]
    mine = lambda found: [(v.policy, v.urn, v.enforcement) for v in found if v.policy == RULE.name]  # noqa: E731
    assert mine(run_policy_packs(resources, [PACK])[1]) == [(RULE.name, deployment().urn, "mandatory")]
    resources.append(resource(NP, METADATA_80.name, METADATA_80.props))
    assert mine(run_policy_packs(resources, [PACK])[1]) == []


def test_the_database_port_in_an_external_secret_template_must_be_open():
    """AWS: External Secrets renders the MLflow URI from a template that names the database host and port."""
    external = Res("kubernetes:external-secrets.io/v1:ExternalSecret", "db-uri", {
        "metadata": {"name": "mlflow-database", "namespace": "mlops"}, "spec": {"target": {
            "name": "mlflow-database", "template": {"data": {"uri": "postgresql://{{ .username }}:{{ .password }}@db.internal:5432/mlflow"}}}}})
    app = deployment(env=[{"name": "URI", "valueFrom": {"secretKeyRef": {"name": "mlflow-database", "key": "uri"}}}])
    assert "PostgreSQL named in its config (external:5432/TCP)" in check_stack(RULE, [external, app, DENY, HTTPS]).messages[0]
    database = policy("db", [{"to": [{"ipBlock": {"cidr": "10.1.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5432}]}])
    assert check_stack(RULE, [external, app, DENY, HTTPS, database]).passed


def test_argo_step_pods_are_matched_by_their_podmetadata_labels():
    """A WorkflowTemplate's pods carry spec.podMetadata.labels: a policy selecting them opens their egress;
    without it the object store its step names stays blocked."""
    steps = {"app.kubernetes.io/name": "retraining"}
    template = Res("kubernetes:argoproj.io/v1alpha1:WorkflowTemplate", "retraining", {
        "metadata": {"name": "retraining", "namespace": "mlops"}, "spec": {
            "serviceAccountName": "steps", "podMetadata": {"labels": steps}, "templates": [
                {"name": "features", "container": {"image": "x@sha256:" + "0" * 64,
                                                    "args": ["--registry", "s3://bucket/registry/registry.db"]}}]}})
    https = policy("steps", [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}],
                   {"matchLabels": steps})
    blocked = check_stack(RULE, [template, DENY])
    assert "object store / cloud API named in its config (external:443/TCP)" in blocked.messages[0]
    assert check_stack(RULE, [template, DENY, https]).passed
