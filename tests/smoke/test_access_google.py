"""Google sign-in (issue 16 on GCP): the gcp-prod stack's rendered MLflow (mlflow-oidc-auth with the plan's
group-detection plugin from ConfigMap mlflow-oidc-plugins) against panva's oidc-provider issuing tokens
shaped like Google's (``email``, ``email_verified``, ``hd``; no groups claim), with the groups read from
Cloud Identity's ``searchTransitiveGroups`` as the pod's own Google service account: a local server replays
Google's metadata server and the API from responses in Google's documented format
(mlops_tools/smoke/google_identity/recorded.json, sources inside).

Rita is in the readers group through a nested group, Eddie in the editors group likewise, Olga in no
platform group, Mallory is an outside account (another domain) that an owner added to the editors group."""

from __future__ import annotations


import pytest

from mlops_tools.smoke import SmokeFailure
from mlops_tools.smoke.access import (check_editor_logs_a_run, check_reader_reads_but_cannot_write, check_refused,
                                       create_run, start_google_sso_mlflow)
from mlops_tools.smoke.google_identity import recorded_groups
from mlops_tools.smoke.plan import load_plan
from mlops_tools.smoke.procs import Processes
from tests.smoke.conftest import LOGS

GOOGLE_STACKS = ["gcp-prod"]  # the stacks whose config names issuer google
pytestmark = pytest.mark.xdist_group(name="sso-google")
GROUPS_SCOPE = "https://www.googleapis.com/auth/cloud-identity.groups.readonly"


@pytest.fixture(scope="module", params=GOOGLE_STACKS)
def sso(request):
    plan = load_plan(request.param)
    domain = next(e["value"] for e in plan.workload("mlflow", "mlops").container("mlflow").env
                  if e["name"] == "GOOGLE_HOSTED_DOMAIN")
    accounts = {"rita": {"domain": domain}, "eddie": {"domain": domain}, "olga": {"domain": domain},
                "mallory": {"domain": "other.example"}}
    with Processes(LOGS / plan.stack / "mlflow-sso-google") as procs:
        run = start_google_sso_mlflow(procs, plan, accounts)
        missing = set(run.groups.values()) - recorded_groups()
        if missing:
            raise SmokeFailure(f"{plan.stack}: the plan's MLflow groups {sorted(missing)} are not in the recorded "
                               "Cloud Identity answers (mlops_tools/smoke/google_identity/recorded.json)")
        yield run


def test_the_tokens_carry_no_groups_only_googles_identity_claims(sso):
    from mlops_tools.smoke.oidc import code_flow_id_token
    # A second client of the same provider (Grafana-like), to read an ID token as issued.
    claims = code_flow_id_token(sso.provider, *_client(sso), "rita", "openid email profile")
    assert claims["email"].startswith("rita@") and claims["email_verified"] is True and claims["hd"]
    assert not any("group" in key for key in claims)


def _client(sso):
    # The provider was started with one client; its id and secret are MLflow's (the run generated them).
    secrets = sso.mlflow.secrets
    return "platform-uis.apps.googleusercontent.com", secrets["mlflow-oidc/client-secret"], \
        f"{sso.mlflow.url}/callback"


def test_editor_in_a_nested_group_logs_a_run(sso, editor, experiment_id):
    check_editor_logs_a_run(sso, editor, experiment_id)


def test_reader_in_a_nested_group_reads_but_cannot_write(sso, experiment_id):
    check_reader_reads_but_cannot_write(sso, "rita", experiment_id)


def test_person_in_no_platform_group_is_refused(sso):
    check_refused(sso, "olga")


def test_account_of_another_domain_is_refused_even_as_a_group_member(sso):
    check_refused(sso, "mallory")


def test_groups_came_from_cloud_identity_as_the_pods_service_account_with_the_groups_scope_only(sso, editor):
    calls = sso.google.calls()
    minted = [c for c in calls if c["path"].endswith("/token")]
    searches = [c for c in calls if c["path"].endswith(":searchTransitiveGroups")]
    assert minted and all(c["scopes"] == [GROUPS_SCOPE] for c in minted), minted
    assert all(c["minted_for"].endswith(".iam.gserviceaccount.com") for c in minted)
    assert searches and all(c["status"] == 200 and c["scopes"] == [GROUPS_SCOPE] for c in searches), searches
    eddie = [c for c in searches if "member_key_id == 'eddie@" in c["query"]]
    # Eddie has three groups and the recorded pages hold two: the plugin followed nextPageToken.
    assert [c["page_start"] for c in eddie[:2]] == [0, 2], eddie
    # Mallory's account is refused on its domain before any group lookup.
    assert not any("mallory@" in c["query"] for c in searches)


def test_grafana_role_from_the_plans_rule_on_googles_token_then_the_direct_groups(sso):
    """Grafana's Google connector evaluates role_attribute_path on the ID token first, then on
    {"groups": [...]} from searchDirectGroups (grafana/grafana social_base.go searchRole). Grafana itself (Go)
    is not run here: the plan's rule is evaluated with jmespath on a real token from the provider, then on
    the recorded *direct* groups."""
    from mlops_tools.smoke.access import grafana_role
    from mlops_tools.smoke.google_identity import RECORDED
    from mlops_tools.smoke.oidc import code_flow_id_token

    section = sso.plan.helm_values("kube-prometheus-stack")["grafana"]["grafana.ini"]["auth.google"]
    members = RECORDED["searchTransitiveGroups"]["members"]
    roles = {}
    for account in ("rita", "eddie", "olga"):
        claims = code_flow_id_token(sso.provider, *_client(sso), account, "openid email profile")
        assert grafana_role(section, claims) is None  # no groups in Google's token: nothing on the first pass
        direct = [group for group, relation in members[claims["email"]] if relation == "DIRECT"]
        roles[account] = grafana_role(section, {"groups": direct})
    # Olga reaches grafana-admins only through a nested group: Grafana (direct groups only) refuses her.
    assert roles == {"rita": "Viewer", "eddie": "Editor", "olga": None}


def test_job_machine_credential_still_works_without_a_login(sso, experiment_id):
    secrets = sso.mlflow.secrets
    run = create_run((secrets["mlflow-machine/username"], secrets["mlflow-machine/token"]), sso.mlflow.url, experiment_id)
    assert run.status_code == 200, run.text
