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
- Google sign-in (``google_hosted_domain`` set) uses Grafana's Google connector (``auth.google``) instead:
  with the scope ``cloud-identity.groups.readonly`` it reads the person's groups from the Cloud Identity API
  (``groups/-/memberships:searchDirectGroups`` with their own token; group e-mails) and evaluates the same
  ``role_attribute_path`` first on the ID token, then on ``{"groups": [...]}``
  (grafana/grafana pkg/login/social/connectors/google_oauth.go ``retrieveGroups``, social_base.go
  ``searchRole``). Direct membership only: people must be direct members of the Grafana role groups, and the
  groups must let members see their membership. ``hosted_domain`` asks Google for the domain's accounts
  (the ``hd`` request parameter) and ``allowed_domains`` refuses e-mails of other domains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import pulumi

from components.k8s._common import InvalidInput

GRAFANA_OIDC_SECRET = "grafana-oidc"
CLIENT_SECRET_ENV = "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET"
GOOGLE_CLIENT_SECRET_ENV = "GF_AUTH_GOOGLE_CLIENT_SECRET"
GOOGLE_GROUPS_SCOPE = "https://www.googleapis.com/auth/cloud-identity.groups.readonly"
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
    google_hosted_domain: Optional[str] = None  # Google sign-in: the Workspace domain


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


def _section(sso: GrafanaSsoArgs) -> tuple[str, dict[str, Any]]:
    """``auth.generic_oauth`` for an OIDC issuer with a groups claim, ``auth.google`` for Google sign-in."""
    common = {"enabled": True, "client_id": sso.client_id, "auth_url": sso.authorize_url, "token_url": sso.token_url,
              "api_url": sso.userinfo_url, "use_pkce": True, "use_refresh_token": True, "allow_sign_up": True,
              "role_attribute_path": role_attribute_path(sso.groups_claim, sso.admin_group, sso.editor_group,
                                                         sso.viewer_group),
              "role_attribute_strict": True, "skip_org_role_sync": False, "allow_assign_grafana_admin": False}
    if sso.google_hosted_domain is not None:
        return "auth.google", {**common, "scopes": f"{sso.scopes} {GOOGLE_GROUPS_SCOPE}",
                               "hosted_domain": sso.google_hosted_domain, "allowed_domains": sso.google_hosted_domain}
    return "auth.generic_oauth", {
        **common, "name": "Single sign-on", "scopes": sso.scopes,
        "email_attribute_path": "email", "login_attribute_path": "email", "name_attribute_path": "name",
        "tls_skip_verify_insecure": False}


def grafana_ini(sso: GrafanaSsoArgs) -> dict[str, Any]:
    """The grafana.ini sections SSO adds (merged into the chart's ``grafana.ini``)."""
    section, settings = _section(sso)
    return {
        "server": {"root_url": sso.root_url},
        section: settings,
        # Session cookies only over TLS (the front door terminates it), never sent cross-site.
        "security": {"cookie_secure": True, "cookie_samesite": "lax"},
    }


def env_value_from(sso: Optional[GrafanaSsoArgs] = None) -> dict[str, Any]:
    name = GOOGLE_CLIENT_SECRET_ENV if sso is not None and sso.google_hosted_domain is not None else CLIENT_SECRET_ENV
    return {name: {"secretKeyRef": {"name": GRAFANA_OIDC_SECRET, "key": "client-secret"}}}
