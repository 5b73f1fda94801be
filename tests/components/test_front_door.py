"""The private front door: one TLS endpoint per SSO stack, internal by default, a hostname per UI in a
private zone on each cloud, public only with SSO and an allow-list (nginx itself runs in the smoke test). AWS's
front door (the prod stack file with a public endpoint) is in tests/components/aws/test_front_door_aws.py."""

from __future__ import annotations

import pytest

from components.access.frontdoor import Route, nginx_conf
from components.k8s._common import InvalidInput
from tests.components.test_access import CLIENT_SECRET, EXTERNAL, preview

SERVICE = "kubernetes:core/v1:Service"
ROUTE = Route("mlflow", "mlflow.ml.example.internal", "mlflow.mlops.svc.cluster.local", 5000, "mlops",
              {"app.kubernetes.io/name": "mlflow"}, 5000)


def k8s(result, type_suffix, name):
    return next(r["inputs"] for r in result.resources if r["type"].endswith(type_suffix)
                and r["inputs"].get("metadata", {}).get("name") == name)


def test_azure_and_gcp_records_point_at_the_internal_load_balancer_ip():
    azure = preview("azure-prod")
    assert k8s(azure, SERVICE, "front-door-internal")["metadata"]["annotations"] == {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
    records = [r["inputs"] for r in azure.resources if r["type"] == "azure-native:privatedns:PrivateRecordSet"]
    assert sorted(r["relativeRecordSetName"] for r in records) == ["grafana", "mlflow", "pipelines"]
    assert all(r["aRecords"][0]["ipv4Address"].startswith("10.") for r in records)
    gcp = preview("gcp-dev", EXTERNAL, secret=CLIENT_SECRET)
    assert k8s(gcp, SERVICE, "front-door-internal")["metadata"]["annotations"] == {
        "networking.gke.io/load-balancer-type": "Internal"}
    zone = next(r["inputs"] for r in gcp.resources if r["type"] == "gcp:dns/managedZone:ManagedZone"
                and r["inputs"]["dnsName"] == "dev.mlops-gcp-dev.internal.")
    assert zone["visibility"] == "private"
    assert {r["inputs"]["name"] for r in gcp.resources if r["type"] == "gcp:dns/recordSet:RecordSet"} >= {
        "mlflow.dev.mlops-gcp-dev.internal.", "grafana.dev.mlops-gcp-dev.internal."}


def test_no_front_door_without_single_sign_on():
    names = {r["inputs"].get("metadata", {}).get("name") for r in preview("dev").resources if r["type"] == SERVICE}
    assert not {"front-door-internal", "front-door-public"} & names


@pytest.mark.parametrize("routes, private, public, words", [
    ([], ["10.0.0.0/16"], [], "at least one UI"),
    ([ROUTE, ROUTE], ["10.0.0.0/16"], [], "unique"),
    ([ROUTE], ["0.0.0.0/0"], [], "whole internet"),
    ([ROUTE], ["10.0.0.0/16"], ["0.0.0.0/0"], "whole internet"),
])
def test_bad_front_door_input_is_refused(routes, private, public, words):
    with pytest.raises(InvalidInput, match=words):
        nginx_conf(routes, private, public)


def test_pipeline_ui_route_only_where_the_pipelines_are_installed():
    from components.access.frontdoor import ui_routes

    hosts = {ui: f"{ui}.ml.example.internal" for ui in ("mlflow", "grafana", "pipelines")}
    assert [r.ui for r in ui_routes(hosts)] == ["mlflow", "grafana"]
    routes = ui_routes(hosts, "pipelines")
    config = nginx_conf(routes, ["10.0.0.0/16"], [])
    assert "server_name pipelines.ml.example.internal;" in config
    # Argo's server speaks TLS itself (secure: true).
    assert "proxy_pass https://argo-workflows-server.pipelines.svc.cluster.local:2746;" in config
    assert routes[-1].pod_labels == {"app.kubernetes.io/name": "argo-workflows-server"}
