"""Azure cluster: Entra-only AKS, private API in prod, CMK for disks and secrets, workload identity, narrow roles."""

import base64

import pytest

from components.azure_account import (KEY_VAULT_CONTRIBUTOR, KEY_VAULT_CRYPTO_USER, MANAGED_IDENTITY_OPERATOR,
                                      NETWORK_CONTRIBUTOR, READER)
from components.cluster.azure import STORAGE_CLASS, WORKLOAD_IDENTITY_AUDIENCE

from .foundation import DEV_CIDRS, foundation, named, role_guid


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
    assert props["networkProfile"]["outboundType"] == "userAssignedNATGateway"
    assert props["networkProfile"]["networkPolicy"] == "cilium"
    assert props["sku"]["tier"] == "Standard" and aks(result, "dev")["inputs"]["sku"]["tier"] == "Free"
    assert aks(result, "prod")["protect"] and not aks(result, "dev")["protect"]


def test_control_plane_roles_are_narrow_and_granted_before_the_cluster(result):
    cluster = aks(result, "dev")
    grants = [g for g in named(result, "azure-native:authorization:RoleAssignment", "dev-cluster")]
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
