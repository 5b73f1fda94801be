"""Single sign-on in the program: each cloud's issuer, MLflow's OIDC settings, secrets never in clear text,
and the stacks without an issuer unchanged (basic-auth, nothing exposed). An external issuer (gcp-dev with
`mlops:access.issuer=external`) is in tests/components/gcp/test_access_external.py."""

from __future__ import annotations

from tests.shared import stack_preview

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CLIENT_SECRET = "external-client-secret-value-123"
EXTERNAL = ["mlops:access.issuer=external", "mlops:access.issuerUrl=https://login.example.com/realms/ml",
            "mlops:access.clientId=mlops-platform", "mlops:access.groupsClaim=roles",
            "mlops:access.mlflowImage=registry.example.com/mlflow-oidc:3.10.1-oidc7.2.0",
            "mlops:access.authorizeUrl=https://login.example.com/realms/ml/protocol/openid-connect/auth",
            "mlops:access.tokenUrl=https://login.example.com/realms/ml/protocol/openid-connect/token",
            "mlops:access.userinfoUrl=https://login.example.com/realms/ml/protocol/openid-connect/userinfo"]
RELEASE = "kubernetes:helm.sh/v3:Release"


def preview(stack, overrides=(), secret=None):
    """The stack file previewed with `overrides` and the client secret as secret config: the run's one preview
    of those inputs (tests/shared.py), which the stack matrix and the front-door tests share."""
    return stack_preview(stack, overrides, None if secret is None else {"mlops:accessClientSecret": secret})


def mlflow_pod(result, masked=False):
    resources = result.masked_resources() if masked else result.resources
    deployment = next(r for r in resources if r["type"] == DEPLOYMENT and r["inputs"]["metadata"]["name"] == "mlflow")
    return deployment["inputs"]["spec"]["template"]["spec"]


def env(container):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def grafana_values(result):
    return next(r["inputs"]["values"]["grafana"] for r in result.resources
                if r["type"] == RELEASE and r["inputs"]["chart"] == "kube-prometheus-stack")


def test_cognito_issuer_makes_pool_groups_and_a_code_flow_client():
    result = preview("prod")
    by_type = {}
    for r in result.resources:
        by_type.setdefault(r["type"], []).append(r["inputs"])
    pool = by_type["aws:cognito/userPool:UserPool"][0]
    assert pool["adminCreateUserConfig"]["allowAdminCreateUserOnly"] is True and pool["mfaConfiguration"] == "ON"
    client = by_type["aws:cognito/userPoolClient:UserPoolClient"][0]
    assert client["allowedOauthFlows"] == ["code"] and client["generateSecret"] is True
    assert "https://mlflow.ml.prod.example.internal/callback" in client["callbackUrls"]
    assert {g["name"] for g in by_type["aws:cognito/userGroup:UserGroup"]} >= {"mlflow-readers", "mlflow-editors", "mlflow-admins"}
    settings = env(mlflow_pod(result)["containers"][0])
    assert settings["OIDC_GROUPS_ATTRIBUTE"] == "cognito:groups"
    assert settings["OIDC_DISCOVERY_URL"].startswith("https://cognito-idp.us-east-1.amazonaws.com/")
    oauth = grafana_values(result)["grafana.ini"]["auth.generic_oauth"]
    assert oauth["auth_url"] == "https://mlops-prod-login.auth.us-east-1.amazoncognito.com/oauth2/authorize"
    # A claim name with a colon is a quoted JMESPath identifier (unquoted, the expression would not parse).
    assert oauth["role_attribute_path"].startswith('contains(("cognito:groups" || `[]`), \'grafana-admins\') && \'Admin\'')


def test_entra_app_registration_emits_group_claims():
    result = preview("azure-prod")
    app = next(r["inputs"] for r in result.resources if r["type"] == "azuread:index/application:Application")
    assert app["groupMembershipClaims"] == ["SecurityGroup"] and app["signInAudience"] == "AzureADMyOrg"
    assert "https://mlflow.ml.prod.example.internal/callback" in app["web"]["redirectUris"]
    assert env(mlflow_pod(result)["containers"][0])["OIDC_GROUPS_ATTRIBUTE"] == "groups"
    oauth = grafana_values(result)["grafana.ini"]["auth.generic_oauth"]
    assert oauth["token_url"].startswith("https://login.microsoftonline.com/") and oauth["token_url"].endswith("/oauth2/v2.0/token")
    assert oauth["api_url"] == "https://graph.microsoft.com/oidc/userinfo"


def test_stacks_without_an_issuer_keep_basic_auth():
    server = mlflow_pod(preview("dev"))["containers"][0]
    assert server["command"][server["command"].index("--app-name") + 1] == "basic-auth"
    assert "OIDC_DISCOVERY_URL" not in env(server)
    assert "auth.generic_oauth" not in grafana_values(preview("dev"))["grafana.ini"]
