"""Grafana behind single sign-on: ``auth.generic_oauth`` on the platform's issuer (issue 16).

- Grafana's file configuration does not read OIDC discovery (a ``discovery_url`` there is silently
  ignored: grafana/grafana#128254), so the issuer hands over its authorize / token / userinfo endpoints.
- The role comes only from the groups claim: ``role_attribute_path`` is a JMESPath expression that gives
  ``Admin``, ``Editor`` or ``Viewer`` for the three role groups (strongest first), and nothing for anyone
  else; ``role_attribute_strict`` then refuses the login instead of falling back to Grafana's default
  role. The smoke test evaluates this exact expression with the ``jmespath`` library on ID tokens that a
  real OpenID provider issued.
- The client secret is never a chart value: Secret ``grafana-oidc`` in the monitoring namespace, read
  through ``envValueFrom`` as ``GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET`` (Grafana lets environment variables
  override grafana.ini). The generated admin password stays as break-glass (login form kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi

from components.k8s._common import InvalidInput

GRAFANA_OIDC_SECRET = "grafana-oidc"
CLIENT_SECRET_ENV = "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"
ROLES = ("Admin", "Editor", "Viewer")  # strongest first: a member of several groups gets the strongest


@dataclass
class GrafanaSsoArgs:
    issuer_url: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]  # a Pulumi secret
    authorize_url: pulumi.Input[str]
    token_url: pulumi.Input[str]
    userinfo_url: pulumi.Input[str]
    root_url: str  # https://grafana.<private zone>
    groups_claim: str
    viewer_group: str
    editor_group: str
    admin_group: str
    scopes: str = "openid email profile"


def _identifier(claim: str) -> str:
    # A JMESPath quoted identifier is a JSON string: needed for claims such as "cognito:groups".
    return json.dumps(claim)


def _literal(text: str) -> str:
    # A JMESPath raw string literal. Implementations differ on backslash escapes inside one, so names with
    # a quote or a backslash are refused (mlops:access.groups allows neither).
    if "'" in text or "\\" in text:
        raise InvalidInput(f"Grafana role group {text!r}: quotes and backslashes are not allowed in group names")
    return f"'{text}'"


def role_attribute_path(groups_claim: str, admin: str, editor: str, viewer: str) -> str:
    """Admin / Editor / Viewer from the groups claim; a token without the claim or without a role group
    yields no string (Grafana: no role; with role_attribute_strict, no login)."""
    groups = f"({_identifier(groups_claim)} || `[]`)"
    return " || ".join(f"contains({groups}, {_literal(group)}) && {_literal(role)}"
                       for role, group in zip(ROLES, (admin, editor, viewer)))


def grafana_ini(sso: GrafanaSsoArgs) -> dict[str, Any]:
    """The grafana.ini sections SSO adds (merged into the chart's ``grafana.ini``)."""
    return {
        "server": {"root_url": sso.root_url},
        "auth.generic_oauth": {
            "enabled": True, "name": "Single sign-on", "client_id": sso.client_id, "scopes": sso.scopes,
            "auth_url": sso.authorize_url, "token_url": sso.token_url, "api_url": sso.userinfo_url,
            "use_pkce": True, "use_refresh_token": True, "allow_sign_up": True,
            "email_attribute_path": "email", "login_attribute_path": "email", "name_attribute_path": "name",
            "role_attribute_path": role_attribute_path(sso.groups_claim, sso.admin_group, sso.editor_group,
                                                       sso.viewer_group),
            "role_attribute_strict": True, "skip_org_role_sync": False, "allow_assign_grafana_admin": False,
            "tls_skip_verify_insecure": False,
        },
        # Session cookies only over TLS (the front door terminates it), never sent cross-site.
        "security": {"cookie_secure": True, "cookie_samesite": "lax"},
    }


def env_value_from() -> dict[str, Any]:
    return {CLIENT_SECRET_ENV: {"secretKeyRef": {"name": GRAFANA_OIDC_SECRET, "key": "client-secret"}}}
