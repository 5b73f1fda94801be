"""`mlops:access`: who may open the platform's UIs (MLflow, Grafana, pipeline UI) and how they log in.

Kept beside stacks/config.py (which imports it) so the access schema reads in one place:
- ``issuer``: where people log in (unset: no SSO, UIs cluster-internal only). ``cognito`` (AWS: a user pool made by the stack), ``entra`` (Azure:
  an app registration made by the stack) or ``external`` (any OIDC issuer: ``issuerUrl`` + ``clientId``,
  client secret in the secret config key ``mlops:accessClientSecret``) or, on GCP, ``google``: Google
  sign-in with an OAuth client the operator makes in the console (``clientId`` + the secret key) for the
  Workspace / Cloud Identity domain ``hostedDomain``; Google ID tokens carry no groups claim, so the groups
  come from the Cloud Identity API (docs/access.md, "GCP and Google identity").
- ``groups``: which IdP group gets which role in each UI (group names, or Entra group object IDs).
- ``public``: private only by default; a public endpoint needs ``enabled: true`` *and* an allow-list.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal, Optional

import re

from pydantic import Field, field_validator
from pydantic.alias_generators import to_camel

from stacks.config_base import PINNED_IMAGE, ConfigModel, refuse_latest

ISSUERS = {"aws": ("cognito", "external"), "azure": ("entra", "external"), "gcp": ("google", "external")}
# SSO is switched on by naming an issuer: MLflow then needs the plugin image (images/mlflow-oidc), which
# a stack can only use once it is built and pushed. Until then the UIs stay cluster-internal.
DEFAULT_ISSUER: dict[str, Optional[str]] = {"aws": None, "azure": None, "gcp": None}
ISSUER_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?$")
GROUP_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._@:/-]{0,127}$"
# A Google group is named by its e-mail address (the Cloud Identity EntityKey id of the group).
GOOGLE_GROUP = re.compile(r"^[A-Za-z0-9._%+-]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class AccessGroups(ConfigModel):
    """IdP group -> role. One group per role; a user in several groups gets the strongest role."""

    mlflow_read: str = Field(default="mlflow-readers", pattern=GROUP_NAME)
    mlflow_edit: str = Field(default="mlflow-editors", pattern=GROUP_NAME)
    mlflow_manage: str = Field(default="mlflow-admins", pattern=GROUP_NAME)
    grafana_viewer: str = Field(default="grafana-viewers", pattern=GROUP_NAME)
    grafana_editor: str = Field(default="grafana-editors", pattern=GROUP_NAME)
    grafana_admin: str = Field(default="grafana-admins", pattern=GROUP_NAME)
    pipelines_read: str = Field(default="pipelines-readers", pattern=GROUP_NAME)
    pipelines_submit: str = Field(default="pipelines-submitters", pattern=GROUP_NAME)


class PublicEndpoint(ConfigModel):
    enabled: bool = False
    allowed_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)


class AccessConfig(ConfigModel):
    issuer: Optional[Literal["cognito", "entra", "external", "google"]] = None
    # Google only: the Workspace / Cloud Identity primary domain whose accounts may sign in (the ID token's
    # ``hd`` claim); see https://developers.google.com/identity/openid-connect/openid-connect#hd-param
    hosted_domain: Optional[str] = Field(default=None, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    issuer_url: Optional[str] = None
    # External issuer only: Grafana's file configuration reads no discovery document, so it is told the
    # endpoints (the values of authorization_endpoint, token_endpoint, userinfo_endpoint in the discovery).
    authorize_url: Optional[str] = None
    token_url: Optional[str] = None
    userinfo_url: Optional[str] = None
    client_id: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9._:@/-]{1,255}$")
    groups_claim: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_:.-]{1,64}$")
    domain: Optional[str] = Field(default=None, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    # MLflow image with the OIDC plugin (images/mlflow-oidc), pinned by tag or digest; required with SSO.
    mlflow_image: Optional[str] = Field(default=None, pattern=PINNED_IMAGE)
    # Space-separated, as OAuth 2.0 defines the scope parameter (the plugin passes the value through as is).
    scopes: str = Field(default="openid email profile", pattern=r"^openid( [A-Za-z0-9_:./-]+)*$")
    groups: AccessGroups = AccessGroups()
    public: PublicEndpoint = PublicEndpoint()

    _pinned = field_validator("mlflow_image")(staticmethod(refuse_latest))

    @field_validator("authorize_url", "token_url", "userinfo_url")
    @classmethod
    def _https_endpoint(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not ISSUER_URL.match(value):
            raise ValueError("must be an https:// URL without query or fragment, as the issuer's "
                             "/.well-known/openid-configuration lists it")
        return value

    @field_validator("issuer_url")
    @classmethod
    def _https_issuer(cls, value: Optional[str]) -> Optional[str]:
        # OIDC discovery requires https (OpenID Connect Discovery 1.0, section 4); no query or fragment.
        if value is not None and not ISSUER_URL.match(value):
            raise ValueError("must be the issuer's https:// URL without query or fragment, e.g. "
                             "https://login.example.com/realms/ml (its /.well-known/openid-configuration must exist)")
        return value.rstrip("/") if value else value

    def issuer_for(self, cloud: str) -> Optional[str]:
        """The issuer in force; None (GCP without `mlops:access.issuer`) keeps the UIs cluster-internal
        behind MLflow's basic-auth, and the kubernetes pack still refuses any exposed UI without SSO."""
        return self.issuer or DEFAULT_ISSUER[cloud]


def access_problems(access: AccessConfig, cloud: str, cloud_known: bool, has_secret: bool = False) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Cross-key rules of `mlops:access` as (key path, value, what is allowed)."""
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    issuer = access.issuer_for(cloud) if cloud_known else access.issuer
    if cloud_known and issuer is not None and issuer not in ISSUERS[cloud]:
        problems.append((("access", "issuer"), issuer, f"must be one of {', '.join(ISSUERS[cloud])} on {cloud}"))
    if issuer == "external":
        for key, value in (("issuerUrl", access.issuer_url), ("clientId", access.client_id),
                           ("authorizeUrl", access.authorize_url), ("tokenUrl", access.token_url),
                           ("userinfoUrl", access.userinfo_url)):
            if value is None:
                problems.append((("access", key), None, "is required when access.issuer is external "
                                 "(the client secret goes in the secret key mlops:accessClientSecret)"))
        if not has_secret:
            problems.append((("accessClientSecret",), None, "is required when access.issuer is external: "
                             "pulumi config set --secret mlops:accessClientSecret <the app's client secret>"))
    elif issuer == "google":
        problems += _google_problems(access, has_secret)
    elif issuer is not None:
        for key, value in (("issuerUrl", access.issuer_url), ("clientId", access.client_id),
                           ("authorizeUrl", access.authorize_url), ("tokenUrl", access.token_url),
                           ("userinfoUrl", access.userinfo_url), ("accessClientSecret", "[secret]" if has_secret else None)):
            if value is not None:
                problems.append(((key,) if key == "accessClientSecret" else ("access", key), value, f"is only for issuer external; {issuer} makes its own"))
    if issuer != "google" and access.hosted_domain is not None:
        problems.append((("access", "hostedDomain"), access.hosted_domain, "is only for issuer google"))
    if issuer is not None and access.mlflow_image is None:
        problems.append((("access", "mlflowImage"), None, "is required with single sign-on: the MLflow image with the "
                         "mlflow-oidc-auth plugin, built from images/mlflow-oidc and pushed to your registry, pinned "
                         "by tag or digest (e.g. registry.example.com/mlflow-oidc:3.10.1-oidc7.2.0)"))
    if access.public.enabled and issuer is None:
        problems.append((("access", "public", "enabled"), True, "needs single sign-on: set access.issuer "
                         "(a public endpoint is only ever opened behind SSO and an allow-list)"))
    if access.public.enabled and not access.public.allowed_cidrs:
        problems.append((("access", "public", "allowedCidrs"), [], "must list the CIDRs allowed to reach the public "
                         "endpoint (the endpoint is never open to the internet)"))
    for index, cidr in enumerate(access.public.allowed_cidrs):
        if cidr.prefixlen == 0:
            problems.append((("access", "public", "allowedCidrs", index), str(cidr), "must not be 0.0.0.0/0"))
    if access.public.allowed_cidrs and not access.public.enabled:
        problems.append((("access", "public", "enabled"), False, "must be true when allowedCidrs is set"))
    return problems


def _google_problems(access: AccessConfig, has_secret: bool) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Google sign-in: the client the operator made in the console, its domain, and groups by e-mail."""
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    if access.client_id is None:
        problems.append((("access", "clientId"), None, "is required when access.issuer is google: the OAuth client "
                         "ID of a 'Web application' client (Google Cloud console, APIs & Services > Credentials)"))
    if not has_secret:
        problems.append((("accessClientSecret",), None, "is required when access.issuer is google: "
                         "pulumi config set --secret mlops:accessClientSecret <the OAuth client's secret>"))
    if access.hosted_domain is None:
        problems.append((("access", "hostedDomain"), None, "is required when access.issuer is google: your Google "
                         "Workspace / Cloud Identity domain (only its accounts may sign in), e.g. example.com"))
    for key, value in (("issuerUrl", access.issuer_url), ("authorizeUrl", access.authorize_url),
                       ("tokenUrl", access.token_url), ("userinfoUrl", access.userinfo_url),
                       ("groupsClaim", access.groups_claim)):
        if value is not None:
            problems.append((("access", key), value, "is not used with issuer google (Google's endpoints are fixed "
                             "and its tokens carry no groups claim: groups come from the Cloud Identity API)"))
    for key, group in access.groups.model_dump().items():
        if not GOOGLE_GROUP.match(group):
            problems.append((("access", "groups", to_camel(key)), group, "must be a Google group's e-mail address "
                             "(e.g. mlflow-readers@example.com) when access.issuer is google"))
    return problems
