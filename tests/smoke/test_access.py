"""Single sign-on (issue 16): the SSO stacks' rendered MLflow (mlflow-oidc-auth, init container
oidc-config) against a real OpenID provider (panva's oidc-provider) on 127.0.0.1 that issues ID tokens
with the plan's groups claim (``cognito:groups`` on the Cognito stack, ``groups`` on the Entra stack).

People log in through the provider's own login and consent pages, as a browser would; roles come only
from their groups. The job uses its machine token (Secret mlflow-machine), never a login."""

from __future__ import annotations

import time

import pytest
import requests

from mlops_tools.smoke.access import (API, check_editor_logs_a_run, check_reader_reads_but_cannot_write, check_refused,
                                       create_run, start_sso_mlflow)
from mlops_tools.smoke.plan import load_plan
from mlops_tools.smoke.procs import Processes
from tests.smoke.conftest import LOGS

SSO_STACKS = ["prod", "azure-prod"]  # the stacks whose config names an issuer (Cognito, Entra); run whatever STACK says
pytestmark = pytest.mark.xdist_group(name="sso")  # one worker: each stack's MLflow starts once
ACCOUNTS = {"rita": "READ", "eddie": "EDIT", "olga": "NONE"}  # olga is in no platform group


@pytest.fixture(scope="module", params=SSO_STACKS)
def sso(request):
    plan = load_plan(request.param)
    started = time.monotonic()
    with Processes(LOGS / plan.stack / "mlflow-sso") as procs:
        run = start_sso_mlflow(procs, plan, ACCOUNTS)
        run.started_seconds = time.monotonic() - started
        yield run


def test_unauthenticated_requests_are_refused_or_sent_to_login(sso):
    api = requests.get(f"{sso.mlflow.url}{API}/experiments/search?max_results=1", timeout=30, allow_redirects=False)
    assert api.status_code == 401
    login = requests.get(sso.login_url, timeout=30, allow_redirects=False)
    assert login.status_code in (302, 307) and login.headers["location"].startswith(f"{sso.provider.issuer}/auth?")
    # The plugin asks for the scopes the plan renders, and they reach the IdP as separate scopes.
    assert "scope=openid+email+profile" in login.headers["location"] or "scope=openid%20email%20profile" in login.headers["location"]


def test_editor_logs_a_run(sso, editor, experiment_id):
    check_editor_logs_a_run(sso, editor, experiment_id)


def test_reader_reads_but_cannot_write(sso, experiment_id):
    check_reader_reads_but_cannot_write(sso, "rita", experiment_id)


def test_person_in_no_platform_group_is_refused(sso):
    check_refused(sso, "olga")


def test_job_machine_credential_logs_a_run_without_a_login(sso, experiment_id):
    secrets = sso.mlflow.secrets
    machine = (secrets["mlflow-machine/username"], secrets["mlflow-machine/token"])
    run = create_run(machine, sso.mlflow.url, experiment_id)
    assert run.status_code == 200, run.text
    wrong = create_run((machine[0], "not-the-token"), sso.mlflow.url, experiment_id)
    assert wrong.status_code == 401


def test_through_the_front_door_mlflow_accepts_its_private_hostname(sso, tmp_path):
    """The plan's front door (real nginx, TLS) in front of this MLflow: MLflow accepts the private hostname
    (its --allowed-hosts includes mlflow.<zone>), the job's token works through it, and an anonymous call is
    refused by MLflow behind it."""
    from mlops_tools.smoke.front_door import https_get, start_front_door

    with Processes(LOGS / sso.plan.stack / "front-door-mlflow") as procs:
        door = start_front_door(procs, sso.plan, tmp_path, open_to_client=True,
                                running={"mlflow": sso.mlflow.port})
        host = next(h for h in door.hostnames if h.startswith("mlflow."))
        status, _ = https_get(door, 8443, host, f"{API}/experiments/search?max_results=1")
        assert status == 401
        secrets = sso.mlflow.secrets
        status, body = https_get(door, 8443, host, f"{API}/experiments/search?max_results=1",
                                 auth=(secrets["mlflow-machine/username"], secrets["mlflow-machine/token"]))
        assert status == 200 and "experiments" in body, body


def test_admin_password_is_kept_as_break_glass(sso):
    secrets = sso.mlflow.secrets
    admin = requests.get(f"{sso.mlflow.url}{API}/experiments/search?max_results=1", timeout=60,
                         auth=(secrets["mlflow-admin/username"], secrets["mlflow-admin/password"]))
    assert admin.status_code == 200, admin.text
