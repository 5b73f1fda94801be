"""A workload waits for the Secrets and ConfigMaps the program makes for it (directly or through its component)."""
from pathlib import Path

from mlops_kubernetes_policies.workload import pod_reference_dependency as rule_module
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import Res, check_stack, resource

RULE = rule_module.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "kubernetes"


def secret(name="db-uri", secret_name="mlflow-database", namespace="mlops", deps=()):
    return Res("kubernetes:core/v1:Secret", name, {"metadata": {"name": secret_name, "namespace": namespace},
                                                   "stringData": "[secret]"}, deps=list(deps))


def mlflow(deps=(), parent=None, env_secret="mlflow-database"):
    container = {"name": "mlflow", "image": "x@sha256:" + "0" * 64,
                 "env": [{"name": "URI", "valueFrom": {"secretKeyRef": {"name": env_secret, "key": "uri"}}}]}
    return Res("kubernetes:apps/v1:Deployment", "mlflow", {"metadata": {"name": "mlflow", "namespace": "mlops"}, "spec": {
        "template": {"metadata": {"labels": {"app": "mlflow"}}, "spec": {"containers": [container]}}}},
        deps=list(deps), parent=parent)


def test_a_deployment_reading_a_secret_it_does_not_wait_for_fails_naming_both():
    outcome = check_stack(RULE, [secret(), mlflow()])
    assert outcome.violations == [("mlops/mlflow reads Secret mlflow-database (made by db-uri) without depending on it: "
                                   "its pods can start before it exists and the readiness wait runs out.", mlflow().urn)]


def test_a_direct_or_a_parent_component_dependency_passes():
    assert check_stack(RULE, [secret(), mlflow(deps=["db-uri"])]).passed
    server = Res("mlops:k8s:MlflowServer", "server", {}, deps=["db-uri"])
    assert check_stack(RULE, [secret(), server, mlflow(parent="server")]).passed


def test_external_secret_targets_configmap_volumes_and_other_namespaces():
    external = Res("kubernetes:external-secrets.io/v1:ExternalSecret", "sync", {
        "metadata": {"name": "sync", "namespace": "mlops"}, "spec": {"target": {"name": "mlflow-database"}}})
    assert "made by sync" in check_stack(RULE, [external, mlflow()]).messages[0]
    assert check_stack(RULE, [external, mlflow(deps=["sync"])]).passed
    assert check_stack(RULE, [secret(namespace="other"), mlflow()]).passed  # not the Secret the pod reads
    config = Res("kubernetes:core/v1:ConfigMap", "cfg", {"metadata": {"name": "feast", "namespace": "mlops"}})
    feast = Res("kubernetes:apps/v1:Deployment", "feast", {"metadata": {"name": "feast", "namespace": "mlops"}, "spec": {
        "template": {"spec": {"containers": [{"name": "f"}], "volumes": [{"name": "c", "configMap": {"name": "feast"}}]}}}})
    assert "ConfigMap feast (made by cfg)" in check_stack(RULE, [config, feast]).messages[0]


def test_secrets_the_program_does_not_make_are_not_checked():
    assert check_stack(RULE, [mlflow(env_secret="made-elsewhere")]).passed


def test_the_rule_reports_through_the_analyzer_protocol():
    mine = lambda found: [(v.policy, v.urn) for v in found if v.policy == RULE.name]  # noqa: E731
    resources = [resource(r.type, r.name, r.props) for r in (secret(), mlflow())]
    assert mine(run_policy_packs(resources, [PACK])[1]) == [(RULE.name, mlflow().urn)]
    resources[1] = resource(mlflow().type, "mlflow", mlflow().props, dependencies=(secret().urn,))
    assert mine(run_policy_packs(resources, [PACK])[1]) == []
