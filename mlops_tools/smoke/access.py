"""Run a stack's rendered MLflow with single sign-on against a real OpenID provider on 127.0.0.1.

What comes from the plan: the Deployment (init containers ``auth-config``, ``migrate``, ``oidc-config``;
the server's ``--app-name oidc-auth`` and every OIDC_* setting, including the groups claim's name and
the role groups). What only the cloud knows and the run supplies: the issuer (Cognito's or Entra's
discovery URL -> the local provider's), the client id and secret (made by the issuer at deploy time),
the redirect URL (the private hostname behind TLS -> the local server) and therefore a session cookie
that is not ``Secure`` (the local run is plain http). Secrets the plan hides are generated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.mlflow import CONTAINER, NAME, NAMESPACE, MlflowRun, start_mlflow
from mlops_tools.smoke.oidc import OidcProvider, start_oidc_provider
from mlops_tools.smoke.plan import Plan
from mlops_tools.smoke.procs import HOST, Processes, free_port


@dataclass
class SsoRun:
    mlflow: MlflowRun
    provider: OidcProvider
    groups: dict[str, str]  # READ / EDIT / MANAGE -> group name from the plan
    plan: Plan

    @property
    def login_url(self) -> str:
        return f"{self.mlflow.url}/login"


def rendered_env(plan: Plan) -> dict[str, str]:
    container = plan.workload(NAME, NAMESPACE).container(CONTAINER)
    return {item["name"]: item["value"] for item in container.env if "value" in item}


def start_sso_mlflow(procs: Processes, plan: Plan, accounts: dict[str, str]) -> SsoRun:
    """``accounts``: account id -> role (READ / EDIT / MANAGE / NONE); each gets the plan's group for it."""
    env = rendered_env(plan)
    if env.get("OIDC_DISCOVERY_URL") is None:
        raise SmokeFailure(f"{plan.stack}: the MLflow Deployment has no OIDC_DISCOVERY_URL: SSO is not rendered")
    init = plan.workload(NAME, NAMESPACE).init_containers
    groups_env = {item["name"]: item.get("value") for c in init if c.name == "oidc-config" for item in c.env}
    groups = {"READ": groups_env["SSO_READ_GROUP"], "EDIT": groups_env["SSO_EDIT_GROUP"],
              "MANAGE": groups_env["SSO_MANAGE_GROUP"]}
    claim = env["OIDC_GROUPS_ATTRIBUTE"]
    port = free_port()
    client_id, client_secret = "platform-ui", secrets.token_urlsafe(32)
    redirect = f"http://{HOST}:{port}/callback"
    provider = start_oidc_provider(
        procs, [{"client_id": client_id, "client_secret": client_secret, "redirect_uris": [redirect],
                 "grant_types": ["authorization_code"], "response_types": ["code"]}],
        {account: {"email": f"{account}@example.com", "name": account.title(),
                   "groups": [groups[role]] if role in groups else ["unrelated-group"]}
         for account, role in accounts.items()}, claim)
    run = start_mlflow(procs, plan, {"mlflow-oidc/client-secret": client_secret,
                                     "mlflow-oidc/session-key": secrets.token_urlsafe(48),
                                     "mlflow-oidc/config-source-enabled": "true",
                                     "mlflow-oidc/config-source-path": "/etc/mlflow-oidc",
                                     "mlflow-machine/username": "svc-training-jobs",
                                     "mlflow-machine/token": secrets.token_urlsafe(30)},
                       software="mlflow-oidc",
                       extra_env={"OIDC_DISCOVERY_URL": provider.discovery_url, "OIDC_CLIENT_ID": client_id,
                                  "OIDC_REDIRECT_URI": redirect, "SESSION_COOKIE_SECURE": "false"},
                       port=port)
    return SsoRun(run, provider, groups, plan)


GRAFANA_ROLES = ("Viewer", "Editor", "Admin", "None")  # Grafana's org roles (org.RoleType.IsValid)


def grafana_oauth(plan: Plan) -> dict:
    """The rendered ``auth.generic_oauth`` section of Grafana (kube-prometheus-stack's grafana values)."""
    section = ((plan.helm_values("kube-prometheus-stack").get("grafana") or {}).get("grafana.ini") or {}).get(
        "auth.generic_oauth")
    if not section or section.get("enabled") is not True:
        raise SmokeFailure(f"{plan.stack}: Grafana has no enabled auth.generic_oauth: SSO is not rendered")
    return section


def grafana_role(section: dict, claims: dict) -> str | None:
    """The org role Grafana gives these ID-token claims, or None when it refuses the login.

    Grafana evaluates ``role_attribute_path`` with JMESPath on the token's claims and keeps the result only
    if it is a string (util.SearchJSONForStringAttr); with ``role_attribute_strict`` an empty or unknown
    role refuses the login. Evaluated here with the ``jmespath`` library, the language's reference
    implementation; Grafana itself (a Go binary) cannot be installed on this machine."""
    import jmespath

    result = jmespath.search(section["role_attribute_path"], claims)
    role = result if isinstance(result, str) else ""
    if role in GRAFANA_ROLES:
        return role
    if section.get("role_attribute_strict") is True:
        return None
    return "Viewer"  # Grafana's auto_assign_org_role default without strict mode
