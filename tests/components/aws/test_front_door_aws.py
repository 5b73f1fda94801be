"""The private front door on AWS (the prod stack file with a public endpoint): an internal NLB with a DNS name
per UI in a private zone, the public endpoint open only to the allow-list, nginx as a high uid. Scheduled with
the AWS tests (tests/shared.py `group_of`): its preview needs the AWS SDK, which the worker running the AWS group
has loaded. The other clouds' front doors and the checks without a cloud are in tests/components/test_front_door.py."""

from __future__ import annotations

import pytest

from tests.components.test_access import preview
from tests.components.test_front_door import SERVICE, k8s


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


def test_the_proxy_runs_as_a_high_uid_that_cannot_be_a_host_account(aws_public):
    """Checkov CKV_K8S_40 (the image's own nginx user is 101); the pod and the container both say so."""
    pod = k8s(aws_public, "apps/v1:Deployment", "front-door")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] >= 10000
    assert all(c["securityContext"]["runAsUser"] >= 10000 for c in pod["containers"])
