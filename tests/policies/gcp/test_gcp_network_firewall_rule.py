"""CKV2_GCP_18: every VPC network of the program has its own logged deny-all ingress firewall rule."""
from mlops_gcp_policies.compute import network_deny_ingress as deny_ingress
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RULE = deny_ingress.RULE
NETWORK_ID = "projects/acme-ml-prod/global/networks/mlops"
DENY_ALL = {"denies": [{"protocol": "all"}], "direction": "INGRESS", "sourceRanges": ["0.0.0.0/0"], "priority": 65534,
            "logConfig": {"metadata": "INCLUDE_ALL_METADATA"}}


def network(name="mlops"):
    return Res("gcp:compute/network:Network", name, {"name": name, "autoCreateSubnetworks": False})


def firewall(name, network_ref=NETWORK_ID, deps=(), **props):
    return Res("gcp:compute/firewall:Firewall", name, {**DENY_ALL, "network": network_ref, **props}, deps=list(deps))


def test_a_network_with_its_logged_deny_all_passes():
    assert check_stack(RULE, [network(), firewall("deny-all")]).passed
    # tied through the dependency when the network's id is unknown during preview
    assert check_stack(RULE, [network(), firewall("deny-all", UNKNOWN, deps=["mlops"])]).passed


def test_a_network_without_one_fails_on_the_network():
    for others in ([], [firewall("allow-hc", denies=None, allows=[{"protocol": "tcp"}])],
                   [firewall("deny-all-unlogged", logConfig=None)], [firewall("deny-ssh", denies=[{"protocol": "tcp"}])],
                   [firewall("deny-all-elsewhere", "projects/acme-ml-prod/global/networks/other")]):
        stack = [network(), *others]
        outcome = check_stack(RULE, stack)
        assert outcome.violations == [(outcome.messages[0], stack[0].urn)], others
        assert "network mlops has no logged deny-all ingress firewall rule" in outcome.messages[0]
