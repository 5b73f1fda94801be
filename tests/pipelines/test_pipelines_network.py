"""The pipelines namespace's NetworkPolicies: exact egress per piece, valid manifests."""

from components.k8s import MLFLOW_PORT
from components.pipelines.network import network_policies
from mlops_tools.validate.manifests import supported_versions, validate_manifest


def _by_name():
    return {p["metadata"]["name"]: p for p in network_policies()}


def test_steps_reach_mlflow_and_https_only_and_take_no_ingress():
    steps = _by_name()["retraining-steps"]["spec"]
    assert steps["ingress"] == [] and set(steps["policyTypes"]) == {"Ingress", "Egress"}
    ports = sorted(p["port"] for rule in steps["egress"] for p in rule["ports"])
    assert ports == sorted([MLFLOW_PORT, 443])
    mlflow_rule = next(r for r in steps["egress"] if r["ports"][0]["port"] == MLFLOW_PORT)
    assert mlflow_rule["to"][0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "mlflow"}}


def test_controller_is_scraped_from_monitoring_only_and_server_takes_no_ingress():
    policies = _by_name()
    [scrape] = policies["workflow-controller"]["spec"]["ingress"]
    assert scrape["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert policies["argo-server"]["spec"]["ingress"] == []


def test_policies_are_valid_manifests():
    version = supported_versions()[-1]
    for policy in network_policies():
        _, errors, _, known = validate_manifest(policy, version)
        assert known and errors == [], (policy["metadata"]["name"], errors)
