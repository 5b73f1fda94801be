"""The private front door (issue 16): the SSO stacks' rendered nginx.conf run by the real nginx on 127.0.0.1.

Shown: each UI hostname is served over TLS with a certificate for exactly the Certificate's DNS names
(trusted through the platform CA only), routed by SNI and Host to its own upstream with the headers the UIs
need behind a proxy (Host, X-Forwarded-Proto https, HSTS); a hostname the door does not serve is refused
at the handshake; and with the rendered allow-list (the private network) a client outside it gets 403.
What the run replaces is listed in mlops_tools/smoke/front_door.py."""

from __future__ import annotations

import ssl

import pytest
import urllib3

from mlops_tools.smoke.front_door import https_get, start_front_door
from mlops_tools.smoke.plan import load_plan
from mlops_tools.smoke.procs import Processes
from tests.smoke.conftest import LOGS

SSO_STACKS = ["prod", "azure-prod"]
INTERNAL_PORT = 8443
# The Service behind each hostname: MLflow's own; Grafana's from kube-prometheus-stack (release name + "-grafana").
# The pipeline UI is Argo's server, reached over TLS (it serves its own certificate; the echo stand-in does too).
UPSTREAMS = {"mlflow": "mlflow", "grafana": "kube-prometheus-stack-grafana", "pipelines": "argo-workflows-server"}
pytestmark = pytest.mark.xdist_group(name="sso")


@pytest.fixture(scope="module", params=SSO_STACKS)
def doors(request, tmp_path_factory):
    plan = load_plan(request.param)
    with Processes(LOGS / plan.stack / "front-door") as procs:
        opened = start_front_door(procs, plan, tmp_path_factory.mktemp(f"{plan.stack}-open"), open_to_client=True)
        rendered = start_front_door(procs, plan, tmp_path_factory.mktemp(f"{plan.stack}-rendered"), open_to_client=False)
        yield plan, opened, rendered


def test_each_ui_hostname_reaches_its_own_upstream_over_tls(doors):
    plan, door, _ = doors
    # every shipped stack file installs the pipelines, so Argo's UI is behind the door too
    assert {h.split(".")[0] for h in door.hostnames} == {"mlflow", "grafana", "pipelines"}
    for hostname in door.hostnames:
        status, body = https_get(door, INTERNAL_PORT, hostname, "/api/2.0/mlflow/experiments/search")
        assert status == 200, (hostname, body)
        assert body["backend"] == UPSTREAMS[hostname.split(".")[0]], body
        assert body["headers"]["host"] == hostname and body["headers"]["x-forwarded-proto"] == "https"
        assert body["path"] == "/api/2.0/mlflow/experiments/search"
        assert body["_headers"]["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_hostname_is_refused_at_the_handshake(doors):
    _, door, _ = doors
    with pytest.raises(urllib3.exceptions.SSLError):
        https_get(door, INTERNAL_PORT, "mlflow.attacker.example")


def test_certificate_is_only_trusted_through_the_platform_ca(doors):
    _, door, _ = doors
    pool = urllib3.HTTPSConnectionPool("127.0.0.1", door.ports[INTERNAL_PORT], server_hostname=door.hostnames[0],
                                       ca_certs=ssl.get_default_verify_paths().cafile, cert_reqs="CERT_REQUIRED",
                                       retries=False, timeout=10)
    with pytest.raises(urllib3.exceptions.SSLError):
        pool.request("GET", "/", headers={"Host": door.hostnames[0]})


def test_clients_outside_the_allow_list_are_refused(doors):
    _, _, rendered = doors
    for hostname in rendered.hostnames:
        status, _ = https_get(rendered, INTERNAL_PORT, hostname)
        assert status == 403, hostname
