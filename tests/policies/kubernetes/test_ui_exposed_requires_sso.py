"""kubernetes-ui-exposed-requires-sso: pass and fail through the rule's policy, and through the booted pack
(the Analyzer protocol, as `pulumi preview --policy-pack` runs it)."""
import copy
from pathlib import Path

import pytest

from mlops_kubernetes_policies.access import ui_exposed_requires_sso as rule_module
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import Res, check_stack

RULE = rule_module.RULE
PACK = Path(__file__).resolve().parents[3] / "policies" / "kubernetes"
LABELS = {"app.kubernetes.io/name": "mlflow"}


def mlflow(app_name="basic-auth", image="ghcr.io/mlflow/mlflow:v3.10.1-full"):
    return {"metadata": {"name": "mlflow", "namespace": "mlops"}, "spec": {
        "selector": {"matchLabels": LABELS},
        "template": {"metadata": {"labels": {**LABELS, "app.kubernetes.io/component": "tracking-server"}}, "spec": {
            "containers": [{"name": "mlflow", "image": image,
                            "command": ["mlflow", "server", "--app-name", app_name]}]}}}}


def service(kind="LoadBalancer", selector=LABELS):
    return {"metadata": {"name": "mlflow-internal", "namespace": "mlops"},
            "spec": {"type": kind, "selector": dict(selector), "ports": [{"port": 5000}]}}


def stack(workload, svc):
    return [Res("kubernetes:apps/v1:Deployment", "mlflow", workload), Res("kubernetes:core/v1:Service", "mlflow-lb", svc)]


def test_load_balancer_in_front_of_basic_auth_mlflow_fails():
    outcome = check_stack(RULE, stack(mlflow(), service()))
    assert len(outcome.violations) == 1
    message, urn = outcome.violations[0]
    assert "MLflow (mlflow)" in message and "Service type LoadBalancer" in message and urn.endswith("::mlflow-lb")


def test_load_balancer_in_front_of_oidc_mlflow_passes_and_cluster_ip_passes():
    assert check_stack(RULE, stack(mlflow("oidc-auth", "registry.example.com/mlflow-oidc:3.10.1"), service())).passed
    assert check_stack(RULE, stack(mlflow(), service("ClusterIP"))).passed
    # A LoadBalancer that selects other pods does not expose MLflow.
    assert check_stack(RULE, stack(mlflow(), service(selector={"app.kubernetes.io/name": "feast"}))).passed


def test_ingress_without_sso_fails_and_with_auth_url_passes():
    ingress = {"metadata": {"name": "ui", "namespace": "mlops", "annotations": {}}, "spec": {"rules": [
        {"host": "mlflow.ml.internal", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                           "backend": {"service": {"name": "mlflow-internal"}}}]}}]}}
    resources = [*stack(mlflow(), service("ClusterIP")), Res("kubernetes:networking.k8s.io/v1:Ingress", "ui", ingress)]
    failed = check_stack(RULE, resources)
    assert [m for m, _ in failed.violations] and "Ingress ui" in failed.violations[0][0]
    guarded = copy.deepcopy(ingress)
    guarded["metadata"]["annotations"][rule_module.AUTH_URL] = "https://oauth2.ml.internal/oauth2/auth"
    assert check_stack(RULE, [*stack(mlflow(), service("ClusterIP")),
                              Res("kubernetes:networking.k8s.io/v1:Ingress", "ui", guarded)]).passed


@pytest.mark.parametrize("oauth,passes", [(None, False), ({"enabled": True}, True)])
def test_grafana_exposed_by_helm_values_needs_generic_oauth(oauth, passes):
    grafana = {"service": {"type": "LoadBalancer"}, "grafana.ini": {"auth.generic_oauth": oauth} if oauth else {}}
    release = Res("kubernetes:helm.sh/v3:Release", "monitoring",
                  {"chart": "kube-prometheus-stack", "values": {"grafana": grafana}})
    outcome = check_stack(RULE, [release])
    assert outcome.passed is passes
    if not passes:
        assert "generic_oauth" in outcome.violations[0][0]


@pytest.mark.parametrize("section,oauth,passes", [
    ("auth.google", {"enabled": True}, True), ("auth.google", {"enabled": False}, False),
    ("auth.github", {"enabled": True}, False)])
def test_grafana_google_connector_counts_as_sso_and_other_providers_do_not(section, oauth, passes):
    grafana = {"service": {"type": "LoadBalancer"}, "grafana.ini": {section: oauth}}
    release = Res("kubernetes:helm.sh/v3:Release", "monitoring",
                  {"chart": "kube-prometheus-stack", "values": {"grafana": grafana}})
    assert check_stack(RULE, [release]).passed is passes


def _plan_resource(type_token, name, inputs):
    return {"urn": f"urn:pulumi:test::mlops::{type_token}::{name}", "type": type_token, "name": name, "custom": True,
            "parent": None, "provider": None, "inputs": inputs, "dependencies": [], "protect": False}


def test_through_the_analyzer_protocol_fails_the_exposed_basic_auth_ui_and_passes_the_sso_one():
    def violations(workload):
        resources = [_plan_resource("kubernetes:apps/v1:Deployment", "mlflow", workload),
                     _plan_resource("kubernetes:core/v1:Service", "mlflow-lb", service())]
        _, found = run_policy_packs(resources, [PACK])
        return [v for v in found if v.policy == RULE.name]
    failed = violations(mlflow())
    assert len(failed) == 1 and failed[0].enforcement == "mandatory" and failed[0].urn.endswith("::mlflow-lb")
    assert violations(mlflow("oidc-auth", "registry.example.com/mlflow-oidc:3.10.1")) == []


def _front_door():
    labels = {"app.kubernetes.io/name": "front-door", "app.kubernetes.io/component": "front-door"}
    door = {"metadata": {"name": "front-door", "namespace": "mlops"}, "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "front-door"}},
        "template": {"metadata": {"labels": labels}, "spec": {
            "containers": [{"name": "nginx", "image": "nginxinc/nginx-unprivileged:1.28.0-alpine"}]}}}}
    return [Res("kubernetes:apps/v1:Deployment", "front-door", door),
            Res("kubernetes:core/v1:Service", "front-door-internal",
                service(selector={"app.kubernetes.io/name": "front-door"}))]


@pytest.mark.parametrize("app_name, oauth, gaps", [
    ("oidc-auth", {"enabled": True}, []),
    ("basic-auth", {"enabled": True}, ["MLflow (mlflow)"]),
    ("oidc-auth", None, ["Grafana of Helm release monitoring"]),
])
def test_an_exposed_front_door_needs_sso_on_every_ui_behind_it(app_name, oauth, gaps):
    grafana = {"service": {"type": "ClusterIP"}, "grafana.ini": {"auth.generic_oauth": oauth} if oauth else {}}
    resources = [Res("kubernetes:apps/v1:Deployment", "mlflow", mlflow(app_name, "registry.example.com/mlflow-oidc:3.10.1")),
                 Res("kubernetes:helm.sh/v3:Release", "monitoring",
                     {"chart": "kube-prometheus-stack", "values": {"grafana": grafana}}), *_front_door()]
    outcome = check_stack(RULE, resources)
    assert [m.split(" is reachable")[0] for m, _ in outcome.violations] == gaps
    assert all("front door front-door" in m and urn.endswith("::front-door-internal") for m, urn in outcome.violations)
