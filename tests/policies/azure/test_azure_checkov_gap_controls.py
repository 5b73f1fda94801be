"""Issue 13's last Azure Checkov gaps as rules: encryption at host on every AKS pool (CKV_AZURE_227), critical
add-ons only on System pools (CKV_AZURE_232), an NSG on every subnet (CKV2_AZURE_31), Defender for Containers
scanning the registry's images (CKV_AZURE_163). Each rule passes the platform's props (as the components render
them) and fails the insecure spelling, through the public pulumi_policy API and through the pack over the
Analyzer protocol."""
from pathlib import Path

import pytest

from mlops_azure_policies.containerservice import managed_cluster_critical_addons_only as critical_only
from mlops_azure_policies.containerservice import nodepool_encryption_at_host as host_encryption
from mlops_azure_policies.network import subnet_require_nsg as subnet_nsg
from mlops_azure_policies.security import pricing_defender_for_containers as defender
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import (UNKNOWN, Res, assert_hardened_passes_and_variant_fails, case_ids,
                                                 check_resource, check_stack, resource, variant)

PACK = Path(__file__).resolve().parents[3] / "policies" / "azure"
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
SUBNET = "azure-native:network:Subnet"
VNET = "azure-native:network:VirtualNetwork"
SYSTEM = {"name": "system", "mode": "System", "enableEncryptionAtHost": True,
          "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"], "nodeLabels": {"mlops.dev/pool": "aks-system"}}
AKS = {"resourceName": "mlops-azure-prod", "agentPoolProfiles": [SYSTEM]}
PLATFORM = {"agentPoolName": "platform", "mode": "User", "enableEncryptionAtHost": True, "scaleSetPriority": "Regular",
            "nodeLabels": {"mlops.dev/pool": "system"}}
NSG_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/mlops-azure-prod-nodes"
REGISTRY = "azure-native:containerregistry:Registry"
PRICING = "azure-native:security:Pricing"
ACR = {"registryName": "mlopsazureprod1a2b3c", "sku": {"name": "Premium"}}
CONTAINERS = {"scopeId": "subscriptions/00000000-0000-4000-8000-000000000000", "pricingName": "Containers",
              "pricingTier": "Standard", "extensions": [
                  {"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"},
                  {"name": "AgentlessDiscoveryForKubernetes", "isEnabled": "True"},
                  {"name": "ContainerSensor", "isEnabled": "False"}, {"name": "AgentlessVmScanning", "isEnabled": "False"}]}
NODES = {"subnetName": "nodes", "addressPrefix": "10.50.0.0/19", "networkSecurityGroup": {"id": NSG_ID}}

CASES = [
    (host_encryption, CLUSTER, AKS, {"agentPoolProfiles": [{**SYSTEM, "enableEncryptionAtHost": False}]},
     "agentPoolProfiles[0] (system).enableEncryptionAtHost is False"),
    (host_encryption, POOL, PLATFORM, {"enableEncryptionAtHost": ...}, "enableEncryptionAtHost is not set"),
    (critical_only, CLUSTER, AKS, {"agentPoolProfiles": [{**SYSTEM, "nodeTaints": []}]},
     "agentPoolProfiles[0] (system).nodeTaints has no CriticalAddonsOnly"),
    (critical_only, CLUSTER, AKS, {"agentPoolProfiles": [{**SYSTEM, "nodeTaints": ["CriticalAddonsOnly=true:PreferNoSchedule"]}]},
     "application pods can run on the System pool"),
    (critical_only, POOL, {**PLATFORM, "mode": "System", "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]},
     {"nodeTaints": ...}, "nodeTaints has no CriticalAddonsOnly"),
    (subnet_nsg, SUBNET, NODES, {"networkSecurityGroup": ...}, "networkSecurityGroup is not set"),
    (subnet_nsg, VNET, {"subnets": [{"name": "nodes", "networkSecurityGroup": {"id": NSG_ID}}]},
     {"subnets": [{"name": "nodes", "networkSecurityGroup": {"id": NSG_ID}}, {"name": "endpoints"}]},
     "subnets[1] (endpoints).networkSecurityGroup is not set"),
]


@pytest.mark.parametrize("module, resource_type, base, changes, expected", CASES, ids=case_ids(CASES))
def test_platform_props_pass_insecure_fail(module, resource_type, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, resource_type, base, changes, expected)


def test_user_pools_may_run_anything_and_azure_only_subnets_need_no_nsg():
    assert check_resource(critical_only.RULE, POOL, {**PLATFORM, "nodeTaints": []}).passed
    assert check_resource(subnet_nsg.RULE, SUBNET, {"subnetName": "AzureFirewallSubnet"}).passed
    # The NSG is created in the same update: its id is unknown at preview, the reference is set.
    assert check_resource(subnet_nsg.RULE, SUBNET, {**NODES, "networkSecurityGroup": {"id": UNKNOWN}}).passed


@pytest.mark.parametrize("module, resource_type, props", [
    (host_encryption, POOL, {"enableEncryptionAtHost": UNKNOWN}),
    (critical_only, CLUSTER, {"agentPoolProfiles": [{"mode": "System", "nodeTaints": UNKNOWN}]}),
    (critical_only, POOL, {"mode": UNKNOWN}),
    (subnet_nsg, SUBNET, {"subnetName": "nodes", "networkSecurityGroup": UNKNOWN}),
])
def test_unknown_deciding_value_is_cannot_check(module, resource_type, props):
    outcome = check_resource(module.RULE, resource_type, props)
    assert outcome.messages == [] and "cannot check during preview" in outcome.cannot_check


def test_through_the_pack_over_the_analyzer_protocol():
    """The platform's cluster, pool and subnet pass these rules; the pre-issue-13 shapes fail each one."""
    good = [resource(CLUSTER, "cluster", AKS), resource(POOL, "cluster-platform", PLATFORM),
            resource(SUBNET, "network-nodes", NODES)]
    old_system = {k: v for k, v in SYSTEM.items() if k not in ("enableEncryptionAtHost", "nodeTaints")}
    bad = [resource(CLUSTER, "old-cluster", {**AKS, "agentPoolProfiles": [old_system]}),
           resource(POOL, "old-pool", variant(PLATFORM, enableEncryptionAtHost=...)),
           resource(SUBNET, "old-nodes", variant(NODES, networkSecurityGroup=...))]
    ours = {host_encryption.RULE.name, critical_only.RULE.name, subnet_nsg.RULE.name}
    _, violations = run_policy_packs(good + bad, [PACK])
    found = {(v.policy, v.urn.rsplit("::", 1)[-1], v.enforcement) for v in violations if v.policy in ours}
    assert found == {
        (host_encryption.RULE.name, "old-cluster", "mandatory"),
        (host_encryption.RULE.name, "old-pool", "mandatory"),
        (critical_only.RULE.name, "old-cluster", "mandatory"),
        (subnet_nsg.RULE.name, "old-nodes", "mandatory"),
    }


def _registry_stack(pricing):
    return [Res(REGISTRY, "registry", ACR)] + ([Res(PRICING, "registry-defender-containers", pricing)] if pricing else [])


@pytest.mark.parametrize("pricing, expected", [
    (None, "no Defender for Containers plan"),
    ({**CONTAINERS, "pricingTier": "Free"}, "no Defender for Containers plan"),
    ({**CONTAINERS, "pricingName": "ContainerRegistry"}, "no Defender for Containers plan"),  # the retired plan
    ({**CONTAINERS, "extensions": [{"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "False"}]},
     "scans its images"),
])
def test_registry_without_image_scanning_fails(pricing, expected):
    assert check_stack(defender.RULE, _registry_stack(CONTAINERS)).passed
    outcome = check_stack(defender.RULE, _registry_stack(pricing))
    assert len(outcome.violations) == 1 and expected in outcome.messages[0]
    assert outcome.violations[0][1].endswith("::registry")  # on the registry: a waiver names it


def test_defender_plan_edge_cases():
    assert check_stack(defender.RULE, [Res(PRICING, "p", {**CONTAINERS, "pricingTier": "Free"})]).passed  # no registry
    assert check_stack(defender.RULE, _registry_stack({**CONTAINERS, "extensions": []})).passed  # Standard's default
    unknown = check_stack(defender.RULE, _registry_stack({**CONTAINERS, "pricingTier": UNKNOWN}))
    assert unknown.messages == [] and "cannot check during preview" in unknown.cannot_check


def test_defender_through_the_pack_over_the_analyzer_protocol():
    acr = resource(REGISTRY, "registry", ACR)
    plan = resource(PRICING, "registry-defender-containers", CONTAINERS)
    _, scanned = run_policy_packs([acr, plan], [PACK])
    _, unscanned = run_policy_packs([acr], [PACK])
    assert [v for v in scanned if v.policy == defender.RULE.name] == []
    assert [(v.urn, v.enforcement) for v in unscanned if v.policy == defender.RULE.name] == [(acr["urn"], "mandatory")]
