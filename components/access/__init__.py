"""Access: single sign-on for the platform's UIs and machine credentials for its jobs (issue 16).

Cloud-neutral contract. Each cloud file makes (or names) an OpenID Connect issuer and one web client
for the UIs, and the private DNS zone of their hostnames; the UIs' sides are ``components/k8s/access.py``
(MLflow's OIDC auth app), ``components/k8s/grafana_sso.py`` (Grafana's generic_oauth) and
``components/pipelines/ui_sso.py`` (Argo's SSO mode); ``frontdoor.py`` and ``certificates.py`` are the
private TLS endpoint in front of them.

- ``AccessArgs``: what the stack config says (``mlops:access``): issuer kind, external issuer URL and
  client, group -> role mapping, the private zone for the UI hostnames.
- Every identity component exposes ``issuer_url`` (the OIDC issuer: ``<issuer_url>/.well-known/
  openid-configuration`` must answer), ``client_id``, ``client_secret`` (a Pulumi secret, never in the
  plan in clear text), ``groups_claim`` (the ID-token claim that lists the user's groups) and the
  ``authorize_url`` / ``token_url`` / ``userinfo_url`` endpoints (Grafana reads no discovery document).
- Roles come from groups only: the IdP owns membership, the platform owns what a group may do.
- An issuer whose tokens carry no groups (Google) also exposes ``hosted_domain`` (the accounts' domain) and
  ``pipelines_members`` (group -> member e-mails, for the pipeline UI, which cannot look groups up itself);
  the others have neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Optional

import pulumi

if TYPE_CHECKING:  # the config model is a layer above; only its shape is used here
    from components.k8s.access import MlflowSsoArgs
    from components.k8s.grafana_sso import GrafanaSsoArgs
    from components.pipelines.ui_sso import PipelineUiSso
    from stacks.config import PlatformConfig

UIS = ("mlflow", "grafana", "pipelines")
# Callback path of each UI's OIDC client (MLflow's oidc-auth app, Grafana's generic_oauth, Argo's SSO).
CALLBACK_PATHS = {"mlflow": "/callback", "grafana": "/login/generic_oauth", "pipelines": "/oauth2/callback"}
# Google sign-in: Grafana runs its Google connector, whose callback is /login/google (grafana/grafana
# docs/sources/setup-grafana/configure-security/configure-authentication/google/index.md).
GOOGLE_CALLBACK_PATHS = {**CALLBACK_PATHS, "grafana": "/login/google"}


@dataclass(frozen=True)
class RoleGroups:
    """IdP group per role (names; Entra group object IDs on Azure)."""

    mlflow_read: str
    mlflow_edit: str
    mlflow_manage: str
    grafana_viewer: str
    grafana_editor: str
    grafana_admin: str
    pipelines_read: str
    pipelines_submit: str

    def all(self) -> list[str]:
        return list(dict.fromkeys(vars(self).values()))


@dataclass
class AccessArgs:
    name: str
    issuer: str  # cognito | entra | external | google
    groups: RoleGroups
    domain: str  # private DNS zone; UIs are <ui>.<domain>
    issuer_url: Optional[str] = None  # external only
    endpoints: Optional[tuple[str, str, str]] = None  # external only: authorize, token, userinfo
    client_id: Optional[str] = None  # external only
    client_secret: Optional[pulumi.Input[str]] = None  # external only (secret)
    groups_claim: Optional[str] = None  # None: the issuer's own (cognito:groups on Cognito, groups elsewhere)
    tags: Mapping[str, str] = field(default_factory=dict)
    hosted_domain: Optional[str] = None  # google only: the Workspace / Cloud Identity domain (``hd``)

    @property
    def hostnames(self) -> dict[str, str]:
        return {ui: f"{ui}.{self.domain}" for ui in UIS}

    @property
    def callback_paths(self) -> dict[str, str]:
        return GOOGLE_CALLBACK_PATHS if self.issuer == "google" else CALLBACK_PATHS

    @property
    def callback_urls(self) -> list[str]:
        return [f"https://{host}{self.callback_paths[ui]}" for ui, host in self.hostnames.items()]

    @classmethod
    def from_config(cls, cfg: "PlatformConfig", name: str, tags: Mapping[str, str]) -> Optional["AccessArgs"]:
        """None when the stack names no issuer (SSO off: the UIs stay cluster-internal)."""
        issuer = cfg.access.issuer_for(cfg.cloud)
        if issuer is None:
            return None
        g = cfg.access.groups
        secret = pulumi.Output.secret(cfg.access_client_secret) if cfg.access_client_secret else None
        return cls(name=name, issuer=issuer, domain=cfg.access.domain or f"{cfg.environment}.{name}.internal",
                   issuer_url=cfg.access.issuer_url, client_id=cfg.access.client_id, client_secret=secret,
                   groups_claim=cfg.access.groups_claim, tags=dict(tags), hosted_domain=cfg.access.hosted_domain,
                   endpoints=(cfg.access.authorize_url, cfg.access.token_url, cfg.access.userinfo_url)
                   if cfg.access.authorize_url and cfg.access.token_url and cfg.access.userinfo_url else None,
                   groups=RoleGroups(g.mlflow_read, g.mlflow_edit, g.mlflow_manage, g.grafana_viewer, g.grafana_editor,
                                     g.grafana_admin, g.pipelines_read, g.pipelines_submit))


def mlflow_sso(args: AccessArgs, issuer: Any, image: str, scopes: str = "openid email profile") -> "MlflowSsoArgs":
    """MLflow's side of the issuer (components/k8s/access.py): whom to trust, which group gets which role."""
    from components.k8s.access import MlflowSsoArgs

    return MlflowSsoArgs(image=image, issuer_url=issuer.issuer_url, client_id=issuer.client_id,
                         client_secret=issuer.client_secret, redirect_url=args.callback_urls[0],
                         groups_claim=issuer.groups_claim, read_group=args.groups.mlflow_read,
                         edit_group=args.groups.mlflow_edit, manage_group=args.groups.mlflow_manage, scopes=scopes,
                         google_hosted_domain=getattr(issuer, "hosted_domain", None))


def grafana_sso(args: AccessArgs, issuer: Any, scopes: str = "openid email profile") -> "GrafanaSsoArgs":
    """Grafana's side of the issuer (components/k8s/grafana_sso.py): same client, its own callback."""
    from components.k8s.grafana_sso import GrafanaSsoArgs
    from components.pipelines.ui_sso import PipelineUiSso

    return GrafanaSsoArgs(issuer_url=issuer.issuer_url, client_id=issuer.client_id,
                          client_secret=issuer.client_secret, authorize_url=issuer.authorize_url,
                          token_url=issuer.token_url, userinfo_url=issuer.userinfo_url,
                          root_url=f"https://{args.hostnames['grafana']}", groups_claim=issuer.groups_claim,
                          viewer_group=args.groups.grafana_viewer, editor_group=args.groups.grafana_editor,
                          admin_group=args.groups.grafana_admin, scopes=scopes,
                          google_hosted_domain=getattr(issuer, "hosted_domain", None))


def pipelines_sso(args: AccessArgs, issuer: Any) -> "PipelineUiSso":
    """The pipeline UI's side (components/pipelines/ui_sso.py): Argo's SSO mode, read vs submit groups."""
    from components.pipelines.ui_sso import PipelineUiSso

    return PipelineUiSso(issuer_url=issuer.issuer_url, client_id=issuer.client_id, client_secret=issuer.client_secret,
                         redirect_url=f"https://{args.hostnames['pipelines']}{args.callback_paths['pipelines']}", groups_claim=issuer.groups_claim,
                         read_group=args.groups.pipelines_read, submit_group=args.groups.pipelines_submit,
                         members=getattr(issuer, "pipelines_members", None),
                         hosted_domain=getattr(issuer, "hosted_domain", None))


class ExternalIssuer(pulumi.ComponentResource):
    """An OIDC issuer the organisation already runs (Okta, Keycloak, Entra, Google Workspace via a
    broker...): nothing to create in the cloud, only its coordinates, checked and passed on."""

    issuer_url: pulumi.Output[str]
    client_id: pulumi.Output[str]
    client_secret: pulumi.Output[str]
    groups_claim: str
    authorize_url: str
    token_url: str
    userinfo_url: str

    def __init__(self, name: str, args: AccessArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:access:ExternalIssuer", name, None, opts)
        if not (args.issuer_url and args.client_id and args.client_secret is not None and args.endpoints):
            raise ValueError("an external issuer needs access.issuerUrl, access.clientId, access.authorizeUrl, "
                             "access.tokenUrl, access.userinfoUrl and mlops:accessClientSecret")
        self.authorize_url, self.token_url, self.userinfo_url = args.endpoints
        self.issuer_url = pulumi.Output.from_input(args.issuer_url)
        self.client_id = pulumi.Output.from_input(args.client_id)
        self.client_secret = pulumi.Output.secret(args.client_secret)
        self.groups_claim = args.groups_claim or "groups"
        self.register_outputs({"issuerUrl": self.issuer_url, "clientId": self.client_id})
