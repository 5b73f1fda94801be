"""Single sign-on with an external issuer (gcp-dev previewed with `mlops:access.issuer=external` and its
client secret): MLflow runs its OIDC app with the issuer's endpoints, Grafana its generic OAuth connector, and
neither the client secret nor the machine credential reaches the plan in clear text; without the secret the
preview stops. Scheduled with the GCP tests (tests/shared.py `group_of`): the worker that has GCP's SDK loaded
builds this preview, which the front-door tests read too. The other issuers are in tests/components/test_access.py."""

from __future__ import annotations

import json

import pytest

from mlops_tools.engine.preview import PreviewError
from tests.components.test_access import CLIENT_SECRET, EXTERNAL, env, grafana_values, mlflow_pod, preview


@pytest.fixture(scope="module")
def gcp_external():
    return preview("gcp-dev", EXTERNAL, secret=CLIENT_SECRET)


def test_gcp_with_an_external_issuer_renders_mlflow_oidc(gcp_external):
    pod = mlflow_pod(gcp_external)
    server = pod["containers"][0]
    assert server["command"][server["command"].index("--app-name") + 1] == "oidc-auth"
    assert server["image"] == "registry.example.com/mlflow-oidc:3.10.1-oidc7.2.0"
    settings = env(server)
    assert settings["OIDC_DISCOVERY_URL"] == "https://login.example.com/realms/ml/.well-known/openid-configuration"
    assert settings["OIDC_CLIENT_ID"] == "mlops-platform" and settings["OIDC_GROUPS_ATTRIBUTE"] == "roles"
    assert settings["OIDC_GROUP_NAME"] == "mlflow-readers,mlflow-editors,mlflow-admins"
    assert settings["DEFAULT_MLFLOW_PERMISSION"] == "NO_PERMISSIONS" and settings["OIDC_SCOPE"] == "openid email profile"
    assert settings["OIDC_CLIENT_SECRET"] == {"secretKeyRef": {"name": "mlflow-oidc", "key": "client-secret"}}
    assert [c["name"] for c in pod["initContainers"]] == ["auth-config", "migrate", "oidc-config"]
    types = {r["type"] for r in gcp_external.resources}
    assert "mlops:access:ExternalIssuer" in types and "mlops:access:MlflowSso" in types


def test_client_and_machine_secrets_never_reach_the_plan_in_clear_text(gcp_external):
    text = json.dumps(gcp_external.masked_resources())
    assert CLIENT_SECRET not in text
    revealed = [r for r in gcp_external.resources if r["type"] == "kubernetes:core/v1:Secret"
                and r["inputs"]["metadata"]["name"] in ("mlflow-oidc", "mlflow-machine")]
    assert {(r["inputs"]["metadata"]["name"], r["inputs"]["metadata"]["namespace"]) for r in revealed} == {
        ("mlflow-oidc", "mlops"), ("mlflow-machine", "mlops"), ("mlflow-machine", "training")}
    for secret in revealed:
        for key, value in secret["inputs"]["stringData"].items():
            if key in ("client-secret", "session-key", "token"):
                assert value not in text, key


def test_grafana_logs_in_through_the_external_issuer_with_its_endpoints(gcp_external):
    grafana = grafana_values(gcp_external)
    oauth = grafana["grafana.ini"]["auth.generic_oauth"]
    assert oauth["enabled"] is True and oauth["client_id"] == "mlops-platform"
    assert oauth["auth_url"].endswith("/openid-connect/auth") and oauth["token_url"].endswith("/openid-connect/token")
    assert oauth["api_url"].endswith("/openid-connect/userinfo") and oauth["use_pkce"] is True
    assert oauth["role_attribute_strict"] is True and '"roles"' in oauth["role_attribute_path"]
    assert grafana["grafana.ini"]["server"]["root_url"] == "https://grafana.dev.mlops-gcp-dev.internal"
    assert "client_secret" not in oauth  # the chart refuses leaked secrets; it comes from Secret grafana-oidc
    assert grafana["envValueFrom"] == {"GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET": {
        "secretKeyRef": {"name": "grafana-oidc", "key": "client-secret"}}}
    secret = next(r for r in gcp_external.masked_resources() if r["type"] == "kubernetes:core/v1:Secret"
                  and r["inputs"]["metadata"]["name"] == "grafana-oidc")
    assert secret["inputs"]["metadata"]["namespace"] == "monitoring" and CLIENT_SECRET not in json.dumps(secret)


def test_machine_credential_is_not_the_admin_password(gcp_external):
    init = next(c for c in mlflow_pod(gcp_external)["initContainers"] if c["name"] == "oidc-config")
    settings = env(init)
    assert settings["SSO_MACHINE_TOKEN"] == {"secretKeyRef": {"name": "mlflow-machine", "key": "token"}}
    assert settings["SSO_EDIT_GROUP"] == "mlflow-editors"


def test_an_external_issuer_without_its_secret_stops_the_preview():
    with pytest.raises(PreviewError) as caught:
        preview("gcp-dev", EXTERNAL)
    assert "mlops:accessClientSecret" in str(caught.value) and "--secret" in str(caught.value)
