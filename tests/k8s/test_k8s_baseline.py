"""Cluster baseline: namespaces and their Pod Security levels, priorities, quotas, limits, isolation."""

from __future__ import annotations

import pytest
from k8s_helpers import TRAINER_ROLE, VPC, preview_components

from components.k8s import NAMESPACES, ClusterBaselineArgs, NamespaceQuota
from components.k8s.baseline import ClusterBaseline
from mlops_tools.engine.preview import PreviewError

NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def by_namespace(result, type_token):
    return {(r["inputs"]["metadata"].get("namespace"), r["inputs"]["metadata"]["name"]): r for r in result.by_type(type_token)}


def test_one_namespace_per_concern_with_its_pod_security_level(prod):
    levels = {r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for r in prod.by_type("kubernetes:core/v1:Namespace")}
    assert levels == {"mlops": "restricted", "training": "restricted", "serving": "restricted",
                      "monitoring": "baseline", "node-agents": "privileged"}


def test_priority_classes_put_serving_before_preemptible_training(prod):
    classes = {r["inputs"]["metadata"]["name"]: r["inputs"] for r in prod.by_type("kubernetes:scheduling.k8s.io/v1:PriorityClass")}
    assert set(classes) == {"training-preemptible", "serving-critical"}
    assert classes["serving-critical"]["value"] > classes["training-preemptible"]["value"]
    assert classes["training-preemptible"]["preemptionPolicy"] == "Never"
    assert not any(c.get("globalDefault") for c in classes.values())


def test_every_namespace_has_a_quota_a_limit_range_and_default_deny(prod):
    quotas = by_namespace(prod, "kubernetes:core/v1:ResourceQuota")
    limits = by_namespace(prod, "kubernetes:core/v1:LimitRange")
    policies = by_namespace(prod, NETPOL)
    for namespace in NAMESPACES:
        hard = quotas[(namespace, "platform-quota")]["inputs"]["spec"]["hard"]
        assert {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods"} <= set(hard)
        container = limits[(namespace, "container-defaults")]["inputs"]["spec"]["limits"][0]
        assert container["type"] == "Container" and container["default"] and container["defaultRequest"] and container["max"]
        deny = policies[(namespace, "default-deny")]["inputs"]["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = policies[(namespace, "allow-dns")]["inputs"]["spec"]["egress"][0]
        assert {p["port"] for p in dns["ports"]} == {53}


def test_quotas_scale_with_environment_and_node_count(prod, dev):
    prod_quotas = by_namespace(prod, "kubernetes:core/v1:ResourceQuota")
    dev_quotas = by_namespace(dev, "kubernetes:core/v1:ResourceQuota")
    assert prod_quotas[("training", "platform-quota")]["inputs"]["spec"]["hard"]["requests.nvidia.com/gpu"] == "32"
    assert int(prod_quotas[("training", "platform-quota")]["inputs"]["spec"]["hard"]["pods"]) > \
        int(dev_quotas[("training", "platform-quota")]["inputs"]["spec"]["hard"]["pods"])
    # One node-exporter per node (40) plus device plugin and DCGM exporter per GPU node (8).
    assert prod_quotas[("node-agents", "platform-quota")]["inputs"]["spec"]["hard"]["pods"] == str(40 + 2 * 8 + 5)
    critical = prod_quotas[("node-agents", "node-critical-quota")]["inputs"]["spec"]["scopeSelector"]["matchExpressions"]
    assert critical == [{"scopeName": "PriorityClass", "operator": "In", "values": ["system-node-critical"]}]


def test_team_namespaces_reach_platform_services_and_https_only(prod):
    policies = by_namespace(prod, NETPOL)
    for namespace in ("training", "serving"):
        egress = policies[(namespace, "workloads")]["inputs"]["spec"]["egress"]
        to_platform = next(rule for rule in egress if rule.get("to", [{}])[0].get("namespaceSelector"))
        assert {p["port"] for p in to_platform["ports"]} == {5000, 6566}
        outside = [rule for rule in egress if "ipBlock" in rule["to"][0]]
        assert [p["port"] for rule in outside for p in rule["ports"]] == [443]


def test_training_peers_talk_on_any_port_except_the_platforms_ray_pods(prod):
    """Team jobs (NCCL) reach each other on any port; the platform's Ray pods are left out of that rule, so
    only their own policy (Ray's fixed ports, components/training/distributed.py) lets traffic to them."""
    policies = by_namespace(prod, NETPOL)
    assert all("podSelector" not in str(rule) for rule in policies[("training", "workloads")]["inputs"]["spec"]["ingress"])
    peers = policies[("training", "peers")]["inputs"]["spec"]
    not_ray = {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["ray-training"]}]}
    assert peers["podSelector"] == not_ray
    assert peers["ingress"] == [{"from": [{"podSelector": not_ray}]}] and peers["egress"] == [{"to": [{"podSelector": not_ray}]}]


def test_training_service_account_has_workload_identity(prod):
    account = by_namespace(prod, "kubernetes:core/v1:ServiceAccount")[("training", "trainer")]
    assert account["inputs"]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": TRAINER_ROLE}


def test_quota_overrides_replace_the_defaults():
    args = ClusterBaselineArgs("dev", [VPC], max_nodes=5,
                               quotas={"serving": NamespaceQuota("1", "1Gi", "2", "2Gi", pods=3)})
    result = preview_components(lambda opts: ClusterBaseline("baseline", args, opts=opts))
    hard = by_namespace(result, "kubernetes:core/v1:ResourceQuota")[("serving", "platform-quota")]["inputs"]["spec"]["hard"]
    assert hard == {"requests.cpu": "1", "requests.memory": "1Gi", "limits.cpu": "2", "limits.memory": "2Gi", "pods": "3"}


@pytest.mark.parametrize("args, message", [
    (ClusterBaselineArgs("dev", [], max_nodes=5), "must name at least one private CIDR"),
    (ClusterBaselineArgs("dev", [VPC], max_nodes=5, max_gpu_nodes=6), "max_gpu_nodes"),
    (ClusterBaselineArgs("qa", [VPC], max_nodes=5), "must be one of dev, staging, prod"),
    (ClusterBaselineArgs("dev", [VPC], max_nodes=5, quotas={"default": NamespaceQuota("1", "1Gi", "1", "1Gi", 1)}),
     "unknown namespace(s) default"),
])
def test_bad_baseline_inputs_are_refused(args, message):
    with pytest.raises(PreviewError) as error:
        preview_components(lambda opts: ClusterBaseline("baseline", args, opts=opts))
    assert message in str(error.value)
