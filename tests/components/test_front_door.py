"""The private front door: one TLS endpoint per SSO stack, internal by default, a hostname per UI in a
private zone on each cloud, public only with SSO and an allow-list (nginx itself runs in the smoke test)."""

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


@pytest.fixture(scope="module")
def aws_public():
    return preview("prod", ["mlops:access.public.enabled=true", 'mlops:access.public.allowedCidrs=["198.51.100.0/24"]'])


def test_aws_front_door_is_an_internal_nlb_with_dns_names_for_each_ui(aws_public):
    internal = k8s(aws_public, SERVICE, "front-door-internal")
    assert internal["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert internal["spec"]["loadBalancerSourceRanges"] == ["10.50.0.0/16"]
    records = {r["inputs"]["name"]: r["inputs"] for r in aws_public.resources if r["type"] == "aws:route53/record:Record"}
    zone = next(r["inputs"] for r in aws_public.resources if r["type"] == "aws:route53/zone:Zone"
                and r["inputs"]["name"] == "ml.prod.example.internal")
    assert zone["vpcs"]  # private hosted zone
    for ui in ("mlflow", "grafana", "pipelines"):  # the stack installs the pipelines: Argo's UI gets a name too
        record = records[f"{ui}.ml.prod.example.internal"]
        assert record["type"] == "CNAME" and record["records"][0].startswith("internal-front-door-internal-")
    cert = k8s(aws_public, "cert-manager.io/v1:Certificate", "front-door")["spec"]
    assert cert["dnsNames"] == ["grafana.ml.prod.example.internal", "mlflow.ml.prod.example.internal",
                                "pipelines.ml.prod.example.internal"]
    assert cert["issuerRef"]["name"] == "platform-ca"


def test_public_endpoint_opens_only_to_the_allow_list(aws_public):
    public = k8s(aws_public, SERVICE, "front-door-public")
    assert "service.beta.kubernetes.io/aws-load-balancer-internal" not in public["metadata"]["annotations"]
    assert public["spec"]["loadBalancerSourceRanges"] == ["198.51.100.0/24"]
    assert public["spec"]["ports"][0]["targetPort"] == 8444
    config = k8s(aws_public, "core/v1:ConfigMap", "front-door")["data"]["nginx.conf"]
    public_servers = [block for block in config.split("server {") if "listen 8444 ssl;" in block]
    assert len(public_servers) == 3 and all("allow 198.51.100.0/24;" in b and "allow 10." not in b for b in public_servers)


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


def test_the_proxy_runs_as_a_high_uid_that_cannot_be_a_host_account(aws_public):
    """Checkov CKV_K8S_40 (the image's own nginx user is 101); the pod and the container both say so."""
    pod = k8s(aws_public, "apps/v1:Deployment", "front-door")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert all(c["securityContext"]["runAsUser"] >= 10000 for c in pod["containers"])
