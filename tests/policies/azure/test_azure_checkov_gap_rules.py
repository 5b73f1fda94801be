"""Rules written for the Checkov coverage gaps (issue 13), Azure resource rules: each passes the platform's
hardened props (as the components render them for azure-prod) and fails the insecure spelling, through the
public pulumi_policy API."""
import pytest

from mlops_azure_policies.containerregistry import registry_admin_user as acr_admin
from mlops_azure_policies.containerregistry import registry_anonymous_pull as acr_anonymous
from mlops_azure_policies.containerregistry import registry_public_network as acr_public
from mlops_azure_policies.containerregistry import registry_retention_policy as acr_retention
from mlops_azure_policies.containerregistry import registry_zone_redundancy as acr_zones
from mlops_azure_policies.containerservice import managed_cluster_azure_cni as aks_cni
from mlops_azure_policies.containerservice import managed_cluster_network_policy as aks_netpol
from mlops_azure_policies.containerservice import managed_cluster_node_public_ip as aks_public_ip
from mlops_azure_policies.containerservice import managed_cluster_paid_tier as aks_tier
from mlops_azure_policies.containerservice import managed_cluster_upgrade_channel as aks_upgrade
from mlops_azure_policies.containerservice import nodepool_max_pods as aks_max_pods
from mlops_azure_policies.containerservice import nodepool_scale_sets as aks_vmss
from mlops_azure_policies.dbforpostgresql import server_geo_redundant_backup as pg_geo
from mlops_azure_policies.keyvault import vault_network_access as kv_network
from mlops_azure_policies.network import security_rule_internet_ingress as nsg_internet
from mlops_azure_policies.storage import account_local_users as sa_local_users
from mlops_azure_policies.storage import account_replication as sa_replication
from tests.policies.cloud_policy_harness import UNKNOWN, assert_hardened_passes_and_variant_fails, case_ids, check_resource

CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
NSG = "azure-native:network:NetworkSecurityGroup"
STORAGE = "azure-native:storage:StorageAccount"
SYSTEM_POOL = {"name": "system", "mode": "System", "type": "VirtualMachineScaleSets", "maxPods": 110,
               "enableNodePublicIP": False, "vmSize": "Standard_D4s_v5"}
AKS = {"resourceName": "mlops-azure-prod", "agentPoolProfiles": [SYSTEM_POOL], "sku": {"name": "Base", "tier": "Standard"},
       "autoUpgradeProfile": {"nodeOSUpgradeChannel": "NodeImage", "upgradeChannel": "patch"},
       "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay", "networkDataplane": "cilium",
                          "networkPolicy": "cilium"}}
SPOT_POOL = {"agentPoolName": "cpuspot0", "type": "VirtualMachineScaleSets", "maxPods": 110, "enableNodePublicIP": False,
             "scaleSetPriority": "Spot", "mode": "User"}
ACR = {"adminUserEnabled": False, "anonymousPullEnabled": False, "publicNetworkAccess": "Disabled",
       "policies": {"retentionPolicy": {"days": 14, "status": "enabled"}}, "zoneRedundancy": "Enabled",
       "sku": {"name": "Premium"}}
POSTGRES_NSG = {"securityRules": [
    {"access": "Allow", "direction": "Inbound", "name": "allow-postgres-from-nodes", "priority": 100, "protocol": "Tcp",
     "sourceAddressPrefix": "10.50.0.0/19", "destinationPortRanges": ["5432", "6432"], "sourcePortRange": "*"},
    {"access": "Deny", "direction": "Inbound", "name": "deny-rest-of-vnet", "priority": 4000, "protocol": "*",
     "sourceAddressPrefix": "VirtualNetwork", "destinationPortRange": "*", "sourcePortRange": "*"}]}


def _open(**rule):
    return {"securityRules": [{"access": "Allow", "direction": "Inbound", "name": "open", "priority": 200,
                               "sourcePortRange": "*", **rule}]}


VAULT = {"properties": {"publicNetworkAccess": "Disabled", "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny"},
                        "enablePurgeProtection": True}}
ACCOUNT = {"accountName": "mlopsazureprodartief3ea8", "isLocalUserEnabled": False, "sku": {"name": "Standard_ZRS"}}
SERVER = {"serverName": "mlops-azure-prod-tracking", "createMode": "Create",
          "backup": {"backupRetentionDays": 14, "geoRedundantBackup": "Enabled"}}

# (rule module, type token, hardened props, changes that make it insecure, expected message fragment)
CASES = [
    (aks_netpol, CLUSTER, AKS, {"networkProfile__networkPolicy": "none"}, "not enforced"),
    (aks_netpol, CLUSTER, AKS, {"networkProfile__networkPolicy": ...}, "networkPolicy is not set"),
    (aks_cni, CLUSTER, AKS, {"networkProfile__networkPlugin": "kubenet"}, "kubenet is retired"),
    (aks_public_ip, CLUSTER, AKS, {"agentPoolProfiles": [{**SYSTEM_POOL, "enableNodePublicIP": True}]},
     "agentPoolProfiles[0] (system).enableNodePublicIP is true"),
    (aks_public_ip, POOL, SPOT_POOL, {"enableNodePublicIP": True}, "enableNodePublicIP is true"),
    (aks_max_pods, POOL, SPOT_POOL, {"maxPods": 30}, "maxPods is 30"),
    (aks_vmss, CLUSTER, AKS, {"agentPoolProfiles": [{**SYSTEM_POOL, "type": "AvailabilitySet"}]}, "is AvailabilitySet"),
    (aks_tier, CLUSTER, AKS, {"sku__tier": "Free"}, "no uptime SLA"),
    (aks_tier, CLUSTER, AKS, {"sku": ...}, "sku.tier is not set"),
    (aks_upgrade, CLUSTER, AKS, {"autoUpgradeProfile__upgradeChannel": "none"}, "patch releases are not applied"),
    (aks_upgrade, CLUSTER, AKS, {"autoUpgradeProfile__nodeOSUpgradeChannel": "None"}, "node OS security updates"),
    (nsg_internet, NSG, POSTGRES_NSG, _open(protocol="Tcp", sourceAddressPrefix="Internet", destinationPortRange="22"),
     "internet to 22 (SSH)"),
    (nsg_internet, NSG, POSTGRES_NSG, _open(protocol="*", sourceAddressPrefix="*", destinationPortRange="3000-4000"),
     "3389 (RDP), UDP (protocol *)"),
    (nsg_internet, NSG, POSTGRES_NSG, _open(protocol="Tcp", sourceAddressPrefixes=["0.0.0.0/0"],
                                            destinationPortRanges=["80", "443"]), "80 (HTTP)"),
    (nsg_internet, NSG, POSTGRES_NSG, _open(protocol="Udp", sourceAddressPrefix="Any", destinationPortRange="53"),
     "internet to UDP"),
    (nsg_internet, "azure-native:network:SecurityRule",
     {"access": "Allow", "direction": "Inbound", "protocol": "Tcp", "sourceAddressPrefix": "10.0.0.0/8",
      "destinationPortRange": "22"}, {"sourceAddressPrefix": "Internet"}, "internet to 22 (SSH)"),
    (kv_network, "azure-native:keyvault:Vault", VAULT, {"properties__publicNetworkAccess": "Enabled"},
     "publicNetworkAccess is Enabled"),
    (kv_network, "azure-native:keyvault:Vault", VAULT, {"properties__networkAcls": ...}, "defaultAction is not set (Allow)"),
    (acr_admin, REGISTRY, ACR, {"adminUserEnabled": True}, "shared static credential"),
    (acr_anonymous, REGISTRY, ACR, {"anonymousPullEnabled": True}, "anyone who reaches the registry"),
    (acr_public, REGISTRY, ACR, {"publicNetworkAccess": ...}, "publicNetworkAccess is not set"),
    (acr_retention, REGISTRY, ACR, {"policies__retentionPolicy__status": "disabled"}, "untagged manifests"),
    (acr_zones, REGISTRY, ACR, {"zoneRedundancy": "Disabled"}, "zone outage"),
    (sa_local_users, STORAGE, ACCOUNT, {"isLocalUserEnabled": ...}, "isLocalUserEnabled is not set"),
    (sa_local_users, STORAGE, ACCOUNT, {"isLocalUserEnabled": True}, "isLocalUserEnabled is true"),
    (sa_replication, STORAGE, ACCOUNT, {"sku__name": "Standard_LRS"}, "one datacenter"),
    (pg_geo, "azure-native:dbforpostgresql:Server", SERVER, {"backup__geoRedundantBackup": "Disabled"}, "region outage"),
]


@pytest.mark.parametrize("module, resource_type, base, changes, expected", CASES, ids=case_ids(CASES))
def test_hardened_passes_insecure_fails(module, resource_type, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, resource_type, base, changes, expected)


@pytest.mark.parametrize("module, resource_type, props", [
    (aks_netpol, CLUSTER, {"networkProfile": {"networkPolicy": UNKNOWN}}),
    (aks_public_ip, CLUSTER, {"agentPoolProfiles": UNKNOWN}),
    (nsg_internet, NSG, {"securityRules": [{"access": "Allow", "direction": "Inbound", "sourceAddressPrefix": UNKNOWN}]}),
    (kv_network, "azure-native:keyvault:Vault", {"properties": {"publicNetworkAccess": UNKNOWN}}),
    (nsg_internet, NSG, {"securityRules": [UNKNOWN]}),
    (aks_public_ip, CLUSTER, {"agentPoolProfiles": [UNKNOWN]}),
])
def test_unknown_deciding_value_is_cannot_check(module, resource_type, props):
    outcome = check_resource(module.RULE, resource_type, props)
    assert outcome.messages == [] and "cannot check during preview" in outcome.cannot_check


def test_outbound_and_deny_rules_from_the_internet_pass():
    rules = [{"access": "Deny", "direction": "Inbound", "protocol": "*", "sourceAddressPrefix": "Internet",
              "destinationPortRange": "*"},
             {"access": "Allow", "direction": "Outbound", "protocol": "Tcp", "sourceAddressPrefix": "*",
              "destinationPortRange": "22"},
             {"access": "Allow", "direction": "Inbound", "protocol": "Tcp", "sourceAddressPrefix": "Internet",
              "destinationPortRange": "443"}]
    assert check_resource(nsg_internet.RULE, NSG, {"securityRules": rules}).passed


def test_read_replica_needs_no_backup_of_its_own():
    assert check_resource(pg_geo.RULE, "azure-native:dbforpostgresql:Server", {"createMode": "Replica"}).passed
