"""Google sign-in on GCP (``access.issuer: google``, the gcp-prod stack): MLflow runs the group-detection
plugin shipped in a ConfigMap under its own Google service account, Grafana runs its Google connector with
the Cloud Identity scope, Argo's rules test the verified e-mail against the groups' members, the Cloud
Identity API is enabled, the secret never reaches the plan, and nothing exposes a UI without SSO."""

from __future__ import annotations

import json

import pytest

from components.k8s.access import GOOGLE_PLUGIN_SOURCE
from mlops_tools.engine.preview import load_stack_config
from tests.components.test_access import env, grafana_values, mlflow_pod, preview
from tests.shared import ROOT

# The stack file's OAuth client secret (`secure:`), as the offline preview reads it: the value the plan must
# never show in clear text.
SECRET_KEY = "mlops:accessClientSecret"


@pytest.fixture(scope="module")
def gcp_prod():
    """The stack file as shipped, client secret included: the run's one preview of it (tests/shared.py), which
    the stack matrix also reads (a preview with another secret value was the same plan, ~1 s more CPU)."""
    return preview("gcp-prod")


@pytest.fixture(scope="module")
def secret():
    config = load_stack_config(ROOT, "gcp-prod")[1]
    assert SECRET_KEY in config.secret_keys and len(config.values[SECRET_KEY]) >= 16
    return config.values[SECRET_KEY]


def by_type(result, type_token):
    return [r for r in result.resources if r["type"] == type_token]


def test_mlflow_detects_groups_with_the_plugin_from_its_configmap(gcp_prod):
    pod = mlflow_pod(gcp_prod)
    server = pod["containers"][0]
    settings = env(server)
    assert settings["OIDC_DISCOVERY_URL"] == "https://accounts.google.com/.well-known/openid-configuration"
    assert settings["OIDC_GROUP_DETECTION_PLUGIN"] == "mlops_google_groups"
    assert settings["GOOGLE_HOSTED_DOMAIN"] == "example.com" and settings["PYTHONPATH"] == "/opt/mlops/oidc-plugins"
    assert settings["OIDC_GROUP_NAME"] == "mlflow-readers@example.com,mlflow-editors@example.com,mlflow-admins@example.com"
    assert {"name": "oidc-plugins", "mountPath": "/opt/mlops/oidc-plugins", "readOnly": True} in server["volumeMounts"]
    volume = next(v for v in pod["volumes"] if v["name"] == "oidc-plugins")
    configmap = next(r["inputs"] for r in by_type(gcp_prod, "kubernetes:core/v1:ConfigMap")
                     if r["inputs"]["metadata"]["name"] == volume["configMap"]["name"])
    assert configmap["metadata"]["namespace"] == "mlops"
    assert configmap["data"] == {"mlops_google_groups.py": GOOGLE_PLUGIN_SOURCE.read_text()}


def test_the_lookup_runs_as_mlflows_own_workload_identity_named_for_the_admin_role(gcp_prod):
    """No key: the MLflow Kubernetes service account is bound to its Google service account, whose e-mail
    the stack exports for the Workspace role assignment (Groups Reader)."""
    account = gcp_prod.outputs["mlflowGroupsReaderAccount"]
    ksa = next(r["inputs"] for r in by_type(gcp_prod, "kubernetes:core/v1:ServiceAccount")
               if r["inputs"]["metadata"]["name"] == "mlflow" and r["inputs"]["metadata"]["namespace"] == "mlops")
    assert ksa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == account
    assert not by_type(gcp_prod, "gcp:serviceaccount/key:Key")
    assert any(r["inputs"]["service"] == "cloudidentity.googleapis.com" for r in by_type(gcp_prod, "gcp:projects/service:Service"))


def test_grafana_uses_googles_connector_with_the_groups_scope_and_strict_roles(gcp_prod):
    grafana = grafana_values(gcp_prod)
    google = grafana["grafana.ini"]["auth.google"]
    assert "auth.generic_oauth" not in grafana["grafana.ini"]
    assert google["scopes"].split() == ["openid", "email", "profile",
                                        "https://www.googleapis.com/auth/cloud-identity.groups.readonly"]
    assert google["hosted_domain"] == "example.com" == google["allowed_domains"]
    assert google["role_attribute_strict"] is True and "'grafana-admins@example.com') && 'Admin'" in google["role_attribute_path"]
    assert grafana["envValueFrom"] == {"GF_AUTH_GOOGLE_CLIENT_SECRET": {"secretKeyRef": {"name": "grafana-oidc", "key": "client-secret"}}}


def test_argo_rules_match_verified_domain_e_mails_of_the_groups_members(gcp_prod):
    accounts = {r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"]["annotations"]
                for r in by_type(gcp_prod, "kubernetes:core/v1:ServiceAccount")
                if r["inputs"]["metadata"]["name"].startswith("pipelines-ui-")}
    rules = {name: annotations["workflows.argoproj.io/rbac-rule"] for name, annotations in accounts.items()}
    assert set(rules) == {"pipelines-ui-read", "pipelines-ui-submit"}
    for rule in rules.values():
        assert rule.startswith('email_verified == true && hd == "example.com" && email in [')
        members = json.loads(rule.split(" in ", 1)[1])
        # The mock directory: one person and one nested group per group; only people are listed.
        assert len(members) == 1 and members[0].startswith("member.") and not any("nested." in m for m in members)
    assert rules["pipelines-ui-read"] != rules["pipelines-ui-submit"]
    server = next(r["inputs"]["values"]["server"] for r in by_type(gcp_prod, "kubernetes:helm.sh/v3:Release")
                  if r["inputs"]["chart"] == "argo-workflows")
    assert server["authModes"] == ["sso"] and server["sso"]["issuer"] == "https://accounts.google.com"
    assert server["sso"]["redirectUrl"] == "https://pipelines.ml.prod.example.internal/oauth2/callback"


def test_the_client_secret_never_reaches_the_plan_and_the_door_routes_all_three_uis(gcp_prod, secret):
    assert secret in json.dumps(gcp_prod.resources)  # the program got it (the check below means something)
    assert secret not in json.dumps(gcp_prod.masked_resources())
    door = [r for r in gcp_prod.resources if r["type"] == "mlops:access:FrontDoor"]
    assert door
    text = json.dumps([r["inputs"] for r in by_type(gcp_prod, "kubernetes:core/v1:ConfigMap")])
    for host in ("mlflow.ml.prod.example.internal", "grafana.ml.prod.example.internal", "pipelines.ml.prod.example.internal"):
        assert host in text
