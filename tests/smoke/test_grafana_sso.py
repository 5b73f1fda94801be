"""Grafana's single sign-on (issue 16): the role mapping the SSO stacks render, applied to ID tokens that a
real OpenID provider (panva's oidc-provider on 127.0.0.1) issued after a login on its own pages.

The provider puts each account's groups in the claim the stack's issuer uses (``cognito:groups`` on the
Cognito stack, ``groups`` on the Entra stack, as MLflow's rendered settings say); the token's signature,
audience, issuer and nonce are checked; the plan's ``role_attribute_path`` is evaluated with the JMESPath
library as Grafana does. A person in a role group gets that role (the strongest of several); anyone else,
and a token without the claim, is refused (``role_attribute_strict``)."""

from __future__ import annotations

import secrets

import pytest

from mlops_tools.engine.preview import load_stack_config
from mlops_tools.smoke.access import grafana_oauth, grafana_role, rendered_env
from mlops_tools.smoke.oidc import code_flow_id_token, start_oidc_provider
from mlops_tools.smoke.plan import REPO, load_plan
from mlops_tools.smoke.procs import HOST, Processes, free_port
from stacks.config import load_config
from tests.smoke.conftest import LOGS

SSO_STACKS = ["prod", "azure-prod"]  # the stacks whose config names an issuer (Cognito, Entra)
pytestmark = pytest.mark.xdist_group(name="sso")


def _accounts(groups) -> dict[str, tuple[list[str] | None, str | None]]:
    """account -> (groups in the token, None: no groups claim at all; the Grafana role expected)."""
    return {
        "vera": ([groups.grafana_viewer], "Viewer"),
        "eddie": ([groups.grafana_editor, "unrelated-team"], "Editor"),
        "ada": ([groups.grafana_admin], "Admin"),
        "max": ([groups.grafana_viewer, groups.grafana_editor, groups.grafana_admin], "Admin"),  # strongest wins
        "mila": ([groups.mlflow_edit], None),  # a platform group, but none of Grafana's
        "olga": (["unrelated-team"], None),
        "nora": ([], None),
        "ghost": (None, None),  # the token has no groups claim
    }


@pytest.fixture(scope="module", params=SSO_STACKS)
def tokens(request):
    """{account: (ID-token claims, expected role)} for one stack, and its rendered generic_oauth section."""
    plan = load_plan(request.param)
    section = grafana_oauth(plan)
    claim = rendered_env(plan)["OIDC_GROUPS_ATTRIBUTE"]  # the issuer's groups claim, as MLflow is told
    _, config = load_stack_config(REPO, request.param)
    accounts = _accounts(load_config(request.param, config.values).access.groups)
    client_id, client_secret = "grafana", secrets.token_urlsafe(32)
    redirect = f"http://{HOST}:{free_port()}/login/generic_oauth"  # Grafana's callback path
    with Processes(LOGS / plan.stack / "grafana-sso") as procs:
        provider = start_oidc_provider(
            procs, [{"client_id": client_id, "client_secret": client_secret, "redirect_uris": [redirect],
                     "grant_types": ["authorization_code"], "response_types": ["code"]}],
            {name: {"email": f"{name}@example.com", "name": name.title(),
                    **({"groups": member_of} if member_of is not None else {})}
             for name, (member_of, _) in accounts.items()}, claim)
        issued = {name: (code_flow_id_token(provider, client_id, client_secret, redirect, name, section["scopes"]),
                         expected) for name, (_, expected) in accounts.items()}
    yield plan.stack, section, claim, issued


def test_grafana_maps_groups_to_roles_on_real_id_tokens(tokens):
    stack, section, claim, issued = tokens
    got = {name: grafana_role(section, claims) for name, (claims, _) in issued.items()}
    assert got == {name: expected for name, (_, expected) in issued.items()}, (stack, section["role_attribute_path"])


def test_tokens_carry_the_groups_in_the_issuers_claim(tokens):
    stack, _, claim, issued = tokens
    assert claim == {"prod": "cognito:groups", "azure-prod": "groups"}[stack]
    assert issued["ada"][0][claim] and claim not in issued["ghost"][0]


def test_strict_mode_refuses_anyone_without_a_role(tokens):
    _, section, _, issued = tokens
    assert section["role_attribute_strict"] is True
    lenient = {**section, "role_attribute_strict": False}
    # Without strict mode Grafana would let the outsider in as Viewer: strict is what refuses them.
    assert grafana_role(lenient, issued["olga"][0]) == "Viewer" and grafana_role(section, issued["olga"][0]) is None
