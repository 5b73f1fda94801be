"""The pipeline UI (Argo Workflows server) behind single sign-on: Argo's own SSO mode (issue 16).

- ``--auth-mode=sso`` (chart ``server.authModes: [sso]``): people log in at the platform's OIDC issuer
  (authorization code; Argo adds the ``openid`` scope), the callback is ``https://pipelines.<zone>/oauth2/callback``.
  The client id and secret come from Secret ``argo-server-sso`` in the server's namespace, never a value.
- SSO RBAC (``server.sso.rbac.enabled``): Argo picks, for each login, the ServiceAccount of its namespace
  whose ``workflows.argoproj.io/rbac-rule`` (an expr-lang expression over the token's claims) matches,
  the highest ``rbac-rule-precedence`` first, and acts with that account's Kubernetes permissions. Two
  accounts: ``pipelines-ui-read`` (the read group: see workflows, templates, cron workflows, logs) and
  ``pipelines-ui-submit`` (the submit group, higher precedence: also submit, resubmit, stop, suspend).
  A person in neither group matches no rule and Argo refuses every request.
- Since Kubernetes 1.24 no token Secret is made for a ServiceAccount: Argo reads the one named
  ``<account>.service-account-token`` (type ``kubernetes.io/service-account-token``), so each is made here,
  and the server may read only those two Secrets (``secretWhitelist``).

- Google sign-in puts no groups in the token or userinfo, and Argo reads groups from nowhere else. There the
  rule is ``email_verified == true && hd == "<domain>" && email in [...]`` (Argo evaluates every ID-token
  claim, argoproj/argo-workflows docs/argo-server-sso.md "Custom claims"), the list being the members of
  the group, read from Cloud Identity at deploy time (components/access/gcp.py ``group_member_emails``).

Not verifiable offline: the Argo server (a Go binary) cannot run here, so the rule expressions and the
login are checked by their shape and by schema-validating every object, not by Argo itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.k8s._common import InvalidInput

SSO_SECRET = "argo-server-sso"
READ_ACCOUNT = "pipelines-ui-read"
SUBMIT_ACCOUNT = "pipelines-ui-submit"
RULE = "workflows.argoproj.io/rbac-rule"
PRECEDENCE = "workflows.argoproj.io/rbac-rule-precedence"
_LABELS = {"app.kubernetes.io/part-of": "mlops-platform", "app.kubernetes.io/component": "pipelines-ui-sso"}
_READ = ["get", "list", "watch"]


@dataclass(frozen=True)
class PipelineUiSso:
    """What the Argo server needs from the platform's issuer (built by ``components.access.pipelines_sso``)."""

    issuer_url: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]  # a Pulumi secret
    redirect_url: str  # https://pipelines.<private zone>/oauth2/callback
    groups_claim: str
    read_group: str
    submit_group: str
    scopes: tuple[str, ...] = ("email", "profile")
    session_hours: int = 8
    # Google sign-in only: group -> its members' e-mails (deploy-time Cloud Identity lookup), and the domain.
    members: Optional[Mapping[str, pulumi.Input[Sequence[str]]]] = None
    hosted_domain: Optional[str] = None


def _email_rule(domain: str, emails: Sequence[str]) -> str:
    # expr-lang: JSON string literals; the token's own e-mail must be verified and of the Workspace domain.
    return f"email_verified == true && hd == {json.dumps(domain)} && email in {json.dumps(sorted(emails))}"


def _member_of(sso: PipelineUiSso, group: str) -> pulumi.Input[str]:
    """The rule that picks ``group``'s ServiceAccount: a groups-claim test, or (Google) an e-mail test."""
    if sso.members is None:
        return f"{json.dumps(group)} in groups"  # expr-lang: a double-quoted string literal (JSON escaping)
    domain = str(sso.hosted_domain)  # checked by rbac_manifests
    return pulumi.Output.from_input(sso.members[group]).apply(lambda emails: _email_rule(domain, emails))


def server_values(sso: PipelineUiSso) -> dict[str, Any]:
    """The chart's ``server`` keys for SSO (merged over the hardened server values in argo.py)."""
    if not sso.redirect_url.startswith("https://") or not sso.redirect_url.endswith("/oauth2/callback"):
        raise InvalidInput(f"PipelineUiSso.redirect_url {sso.redirect_url!r} must be https://<host>/oauth2/callback")
    if not 1 <= sso.session_hours <= 24:
        raise InvalidInput(f"PipelineUiSso.session_hours must be 1..24 (got {sso.session_hours})")
    return {
        "authModes": ["sso"],
        "sso": {
            "enabled": True, "issuer": sso.issuer_url,
            "clientId": {"name": SSO_SECRET, "key": "client-id"},
            "clientSecret": {"name": SSO_SECRET, "key": "client-secret"},
            "redirectUrl": sso.redirect_url, "scopes": list(sso.scopes), "sessionExpiry": f"{sso.session_hours}h",
            "customGroupClaimName": sso.groups_claim, "insecureSkipVerify": False,
            "rbac": {"enabled": True, "secretWhitelist": [f"{READ_ACCOUNT}.service-account-token",
                                                          f"{SUBMIT_ACCOUNT}.service-account-token"]},
        },
    }


def _role_rules(submit: bool) -> list[dict[str, Any]]:
    rules = [
        {"apiGroups": ["argoproj.io"], "verbs": _READ,
         "resources": ["workflows", "workflowtemplates", "cronworkflows", "workfloweventbindings"]},
        {"apiGroups": [""], "resources": ["pods", "pods/log", "events"], "verbs": _READ},
    ]
    if submit:
        rules += [
            # Submit (also from a template), resubmit, retry, stop, terminate, delete a run.
            {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["create", "update", "patch", "delete"]},
            # Suspend / resume a schedule; creating or editing schedules and templates stays with the program.
            {"apiGroups": ["argoproj.io"], "resources": ["cronworkflows"], "verbs": ["update", "patch"]},
        ]
    return rules


def rbac_manifests(sso: PipelineUiSso, namespace: str) -> list[dict[str, Any]]:
    """ServiceAccount, its token Secret, Role and RoleBinding for the read and the submit group."""
    if sso.read_group == sso.submit_group:
        raise InvalidInput(f"pipelines read and submit groups must differ (both {sso.read_group!r})")
    for group in (sso.read_group, sso.submit_group) if sso.members is not None else ():
        if sso.hosted_domain is None or group not in sso.members:
            raise InvalidInput(f"pipelines group {group!r}: e-mail rules need the hosted domain and the group's members")
    manifests: list[dict[str, Any]] = []
    for account, group, precedence, submit in ((READ_ACCOUNT, sso.read_group, 1, False),
                                               (SUBMIT_ACCOUNT, sso.submit_group, 2, True)):
        meta = {"namespace": namespace, "labels": dict(_LABELS)}
        manifests += [
            {"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
             "metadata": {**meta, "name": account,
                          "annotations": {RULE: _member_of(sso, group), PRECEDENCE: str(precedence)}}},
            {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
             "metadata": {**meta, "name": f"{account}.service-account-token",
                          "annotations": {"kubernetes.io/service-account.name": account}}},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {**meta, "name": account}, "rules": _role_rules(submit)},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {**meta, "name": account},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
             "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]},
        ]
    return manifests


def register(name: str, sso: PipelineUiSso, namespace: str,
             opts: Optional[pulumi.ResourceOptions] = None) -> list[pulumi.Resource]:
    """The client Secret and the RBAC objects, as resources (the Argo release should depend on them)."""
    created: list[pulumi.Resource] = [k8s.core.v1.Secret(
        f"{name}-sso-client", metadata={"name": SSO_SECRET, "namespace": namespace, "labels": dict(_LABELS)},
        type="Opaque", string_data={"client-id": sso.client_id, "client-secret": pulumi.Output.secret(sso.client_secret)},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["stringData", "data"])))]
    for m in rbac_manifests(sso, namespace):
        resource_name = f"{name}-{m['kind'].lower()}-{m['metadata']['name'].split('.')[0]}"
        if m["kind"] == "ServiceAccount":
            created.append(k8s.core.v1.ServiceAccount(resource_name, metadata=m["metadata"], opts=opts,
                                                      automount_service_account_token=False))
        elif m["kind"] == "Secret":
            created.append(k8s.core.v1.Secret(resource_name, metadata=m["metadata"], type=m["type"], opts=opts))
        elif m["kind"] == "Role":
            created.append(k8s.rbac.v1.Role(resource_name, metadata=m["metadata"], rules=m["rules"], opts=opts))
        else:
            created.append(k8s.rbac.v1.RoleBinding(resource_name, metadata=m["metadata"], role_ref=m["roleRef"],
                                                   subjects=m["subjects"], opts=opts))
    return created
