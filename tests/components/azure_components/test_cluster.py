"""Azure cluster: Entra-only AKS, private API in prod, CMK for disks and secrets, workload identity, narrow roles."""

import base64

import pytest
import yaml

from components.azure_account import (KEY_VAULT_CONTRIBUTOR, KEY_VAULT_CRYPTO_USER, MANAGED_IDENTITY_OPERATOR,
                                      NETWORK_CONTRIBUTOR, READER)
from components.cluster.azure import (AKS_RBAC_CLUSTER_ADMIN, CRITICAL_ADDONS_TAINT, STORAGE_CLASS,
                                      WORKLOAD_IDENTITY_AUDIENCE, non_interactive_kubeconfig)
from mlops_tools.engine.mocks.azure import AKS_AAD_CLIENT_ID, AKS_AAD_SERVER_ID, AZURE_TENANT_ID, _aks_user_kubeconfig

from .foundation import DEPLOYER_CLIENT_ID, DEPLOYER_OBJECT_ID, DEV_CIDRS, foundation, named, role_guid


@pytest.fixture(scope="module")
def result():
    return foundation()


def aks(result, env):
    [cluster] = named(result, "azure-native:containerservice:ManagedCluster", f"{env}-")
    return cluster


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_identities_come_from_entra_id_only(result, env):
    props = aks(result, env)["inputs"]
    assert props["disableLocalAccounts"] is True and props["enableRBAC"] is True
    assert props["aadProfile"]["managed"] is True and props["aadProfile"]["enableAzureRBAC"] is True
    assert props["oidcIssuerProfile"] == {"enabled": True}
    assert props["securityProfile"]["workloadIdentity"] == {"enabled": True}


def test_prod_api_server_is_private_dev_is_limited_to_its_cidrs(result):
    prod = aks(result, "prod")["inputs"]["apiServerAccessProfile"]
    assert prod["enablePrivateCluster"] is True and "authorizedIPRanges" not in prod
    dev = aks(result, "dev")["inputs"]["apiServerAccessProfile"]
    assert dev["enablePrivateCluster"] is False and dev["authorizedIPRanges"] == list(DEV_CIDRS)
    for env, profile in (("prod", prod), ("dev", dev)):
        assert profile["enableVnetIntegration"] is True
        assert profile["subnetId"] == result.outputs[f"{env}:subnets"]["apiserver"]
    assert ".privatelink.westeurope.azmk8s.io:443" in result.outputs["prod:endpoint"]  # the private FQDN
    assert ".hcp.westeurope.azmk8s.io:443" in result.outputs["dev:endpoint"]


def test_disks_and_secrets_are_encrypted_with_the_cluster_key(result):
    props = aks(result, "dev")["inputs"]
    [des] = named(result, "azure-native:compute:DiskEncryptionSet", "dev-")
    assert props["diskEncryptionSetID"].endswith("/diskEncryptionSets/" + des["inputs"]["diskEncryptionSetName"])
    # KeyForDiskEncryptionSet.keyUrl must carry the key version (Azure rejects a versionless URL even with
    # rotation to the latest version on); the versioned URI is <versionless>/<version>.
    key_url = des["inputs"]["activeKey"]["keyUrl"]
    assert key_url == result.outputs["dev:keyVersionedUri:cluster"]
    assert key_url.startswith(result.outputs["dev:keyUri:cluster"] + "/") and len(key_url.rsplit("/", 1)[1]) == 32
    assert des["inputs"]["rotationToLatestKeyVersionEnabled"] is True
    assert des["inputs"]["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    [key_grant] = [g for g in named(result, "azure-native:authorization:RoleAssignment", "dev-keys-cluster-crypto")]
    assert key_grant["urn"] in des["dependencies"]  # the set checks its key access when it is created
    kms = props["securityProfile"]["azureKeyVaultKms"]
    assert kms["enabled"] is True and kms["keyVaultNetworkAccess"] == "Private"
    assert kms["keyId"].startswith(result.outputs["dev:keyUri:cluster"] + "/")  # the KMS plugin pins a version
    assert kms["keyVaultResourceId"] == result.outputs["dev:vaultId"]
    [storage_class] = named(result, "kubernetes:storage.k8s.io/v1:StorageClass", "dev-")
    assert storage_class["inputs"]["metadata"]["name"] == STORAGE_CLASS
    assert storage_class["inputs"]["parameters"]["diskEncryptionSetID"] == props["diskEncryptionSetID"]


def test_system_pool_is_on_demand_zonal_private_and_egresses_through_the_nat(result):
    props = aks(result, "prod")["inputs"]
    [pool] = props["agentPoolProfiles"]
    assert pool["mode"] == "System" and "scaleSetPriority" not in pool
    assert pool["availabilityZones"] == ["1", "2", "3"] and pool["enableNodePublicIP"] is False
    assert pool["vnetSubnetID"] == result.outputs["prod:subnets"]["nodes"]
    assert pool["nodeLabels"]["mlops.dev/capacity-type"] == "on-demand"
    assert pool["enableEncryptionAtHost"] is True  # CKV_AZURE_227: temp disk and caches encrypted on the host
    assert pool["nodeTaints"] == [CRITICAL_ADDONS_TAINT] == ["CriticalAddonsOnly=true:NoSchedule"]  # CKV_AZURE_232
    assert pool["nodeLabels"]["mlops.dev/pool"] != "system"  # no platform pod selects the critical-add-ons pool
    assert props["networkProfile"]["outboundType"] == "userAssignedNATGateway"
    assert props["networkProfile"]["networkPolicy"] == "cilium"
    assert props["sku"]["tier"] == "Standard" and aks(result, "dev")["inputs"]["sku"]["tier"] == "Free"
    assert aks(result, "prod")["protect"] and not aks(result, "dev")["protect"]


def test_control_plane_roles_are_narrow_and_granted_before_the_cluster(result):
    cluster = aks(result, "dev")
    grants = [g for g in named(result, "azure-native:authorization:RoleAssignment", "dev-cluster")
              if g["name"] != "dev-cluster-deployer-admin"]
    assert all(g["inputs"]["principalId"] == result.outputs["dev:controlPlanePrincipal"] for g in grants)
    by_role = {role_guid(g): g["inputs"]["scope"] for g in grants if role_guid(g) != NETWORK_CONTRIBUTOR}
    assert by_role == {KEY_VAULT_CRYPTO_USER: result.outputs["dev:keyId:cluster"],
                       KEY_VAULT_CONTRIBUTOR: result.outputs["dev:vaultId"],
                       READER: cluster["inputs"]["diskEncryptionSetID"],
                       MANAGED_IDENTITY_OPERATOR: result.outputs["dev:kubeletId"]}
    subnets = result.outputs["dev:subnets"]
    assert sorted(g["inputs"]["scope"] for g in grants if role_guid(g) == NETWORK_CONTRIBUTOR) == \
        sorted([subnets["nodes"], subnets["apiserver"]])
    assert {g["urn"] for g in grants} <= set(cluster["dependencies"])


def test_workload_identity_trusts_exactly_one_service_account(result):
    [credential] = named(result, "azure-native:managedidentity:FederatedIdentityCredential", "dev-mlflow-identity")
    assert credential["inputs"]["subject"] == "system:serviceaccount:mlops:mlflow"
    assert credential["inputs"]["audiences"] == [WORKLOAD_IDENTITY_AUDIENCE]
    assert credential["inputs"]["issuer"] == result.outputs["dev:oidcIssuerUrl"]


def test_kubeconfig_is_secret_and_uses_entra_login_not_a_static_credential(result):
    assert result.masked_outputs()["dev:kubeconfig"] == "[secret]"
    kubeconfig = result.outputs["dev:kubeconfig"]
    assert "kubelogin" in kubeconfig and "token:" not in kubeconfig and "client-key-data" not in kubeconfig
    [provider] = [p for p in result.by_type("pulumi:providers:kubernetes") if p["name"] == "dev-cluster-k8s"]
    assert provider["inputs"]["kubeconfig"] == kubeconfig
    assert result.is_secret(provider["urn"], "kubeconfig")


def exec_args(kubeconfig: str) -> list:
    [user] = yaml.safe_load(kubeconfig)["users"]
    assert user["user"]["exec"]["command"] == "kubelogin"
    return user["user"]["exec"]["args"]


def aks_answer() -> str:
    """What listClusterUserCredential(format=exec) returns (the mock answers as AKS does: device code)."""
    value = _aks_user_kubeconfig({"resourceGroupName": "rg", "resourceName": "aks"})["kubeconfigs"][0]["value"]
    return base64.b64decode(value).decode()


def test_aks_answers_with_an_interactive_device_code_login():
    args = exec_args(aks_answer())
    assert args[args.index("--login") + 1] == "devicecode"


@pytest.mark.parametrize("env, mode", [("dev", "azurecli"), ("prod", "workloadidentity")])
def test_provider_kubeconfig_signs_in_without_a_prompt(result, env, mode):
    """pulumi up cannot answer a device-code prompt: the program converts AKS's kubeconfig to its login mode."""
    args = exec_args(result.outputs[f"{env}:kubeconfig"])
    assert args == ["get-token", "--login", mode, "--server-id", AKS_AAD_SERVER_ID]


@pytest.mark.parametrize("mode, extra", [
    ("azurecli", []), ("workloadidentity", []), ("msi", []),
    ("spn", ["--client-id", DEPLOYER_CLIENT_ID, "--tenant-id", AZURE_TENANT_ID, "--environment", "AzurePublicCloud"])])
def test_every_login_mode_keeps_the_server_id_and_drops_device_code(mode, extra):
    args = exec_args(non_interactive_kubeconfig(aks_answer(), mode, DEPLOYER_CLIENT_ID))
    assert args == ["get-token", "--login", mode, "--server-id", AKS_AAD_SERVER_ID, *extra]
    assert "devicecode" not in args and AKS_AAD_CLIENT_ID not in args  # the az CLI app is not the SPN


def test_conversion_refuses_what_it_cannot_convert():
    with pytest.raises(ValueError, match="not one of azurecli, workloadidentity, spn, msi"):
        non_interactive_kubeconfig(aks_answer(), "devicecode")
    without_server = aks_answer().replace("--server-id, ", "")
    with pytest.raises(ValueError, match="no --server-id"):
        non_interactive_kubeconfig(without_server, "azurecli")
    with pytest.raises(ValueError, match="no kubelogin exec user"):
        non_interactive_kubeconfig("apiVersion: v1\nkind: Config\nusers: []\n", "azurecli")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_deployer_is_cluster_admin_before_any_kubernetes_object(result, env):
    [assignment] = named(result, "azure-native:authorization:RoleAssignment", f"{env}-cluster-deployer-admin")
    cluster = aks(result, env)
    assert assignment["inputs"]["scope"] == result.outputs[f"{env}:clusterId"]
    assert role_guid(assignment) == AKS_RBAC_CLUSTER_ADMIN
    assert assignment["inputs"]["principalId"] == DEPLOYER_OBJECT_ID
    assert cluster["urn"] in assignment["dependencies"]
    [provider] = [p for p in result.by_type("pulumi:providers:kubernetes") if p["name"] == f"{env}-cluster-k8s"]
    assert assignment["urn"] in provider["dependencies"]


@pytest.mark.parametrize("env, zones", [("dev", ["1", "2"]), ("prod", ["1", "2", "3"])])
def test_platform_services_get_an_on_demand_autoscaled_user_pool(result, env, zones):
    """The System pool takes only critical add-ons, so the platform's own pods need an untainted pool: on-demand,
    autoscaled, zonal, encrypted at host, labelled as every cloud labels its platform nodes (mlops.dev/pool=system)."""
    [pool] = named(result, "azure-native:containerservice:AgentPool", f"{env}-cluster-platform")
    props = pool["inputs"]
    assert (props["agentPoolName"], props["mode"], props["scaleSetPriority"]) == ("platform", "User", "Regular")
    assert props["enableAutoScaling"] is True and (props["minCount"], props["maxCount"], props["count"]) == (1, 3, 1)
    assert props["vmSize"] == "Standard_D4s_v5" and props["availabilityZones"] == zones
    assert props["enableEncryptionAtHost"] is True and props["enableNodePublicIP"] is False
    assert props["nodeLabels"] == {"mlops.dev/pool": "system", "mlops.dev/capacity-type": "on-demand"}
    assert not props.get("nodeTaints")
    assert props["vnetSubnetID"] == result.outputs[f"{env}:subnets"]["nodes"]
    assert aks(result, env)["urn"] in pool["dependencies"]
    # In-cluster objects wait for the pool: a Helm release would otherwise time out with nowhere to schedule.
    [provider] = named(result, "pulumi:providers:kubernetes", f"{env}-cluster-k8s")
    assert pool["urn"] in provider["dependencies"]
