"""Every Azure rule: a hardened resource passes, each insecure spelling fails, unknowns are advisory."""

import pytest

from mlops_azure_policies.authorization import role_assignment_privileged_roles as role_assignment
from mlops_azure_policies.containerservice import managed_cluster_disk_encryption_set as aks_des
from mlops_azure_policies.containerservice import managed_cluster_local_accounts as aks_local_accounts
from mlops_azure_policies.containerservice import managed_cluster_private_api_server as aks_private
from mlops_azure_policies.containerservice import managed_cluster_rbac as aks_rbac
from mlops_azure_policies.dbforpostgresql import server_cmk_encryption as pg_cmk
from mlops_azure_policies.dbforpostgresql import server_public_access as pg_public
from mlops_azure_policies.keyvault import vault_purge_protection as kv_purge
from mlops_azure_policies.keyvault import vault_rbac_authorization as kv_rbac
from mlops_azure_policies.machinelearningservices import workspace_cmk_encryption as ml_cmk
from mlops_azure_policies.machinelearningservices import workspace_public_access as ml_public
from mlops_azure_policies.storage import account_cmk_encryption as sa_cmk
from mlops_azure_policies.storage import account_https_only as sa_https
from mlops_azure_policies.storage import account_min_tls_version as sa_tls
from mlops_azure_policies.storage import account_public_blob_access as sa_public
from mlops_azure_policies.storage import account_shared_key_access as sa_shared_key
from mlops_azure_policies.storage import encryption_scope_cmk_encryption as scope_cmk
from tests.policies.cloud_policy_harness import (
    UNKNOWN, assert_hardened_passes_and_variant_fails, case_ids, check_resource, variant,
)

SUB = "00000000-0000-4000-8000-000000000000"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/mlops-prod"
STORAGE = "azure-native:storage:StorageAccount"
PG = "azure-native:dbforpostgresql:Server"
AKS = "azure-native:containerservice:ManagedCluster"
VAULT = "azure-native:keyvault:Vault"
WORKSPACE = "azure-native:machinelearningservices:Workspace"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"

HARDENED_ACCOUNT = {
    "resourceGroupName": "mlops-prod", "kind": "StorageV2", "sku": {"name": "Standard_ZRS"},
    "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
    "allowSharedKeyAccess": False,
    "encryption": {"keySource": "Microsoft.Keyvault",
                   "keyVaultProperties": {"keyName": "artifacts", "keyVaultUri": "https://mlops-kv.vault.azure.net/"},
                   "encryptionIdentity": {"encryptionUserAssignedIdentity": f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/storage"}},
}
HARDENED_SERVER = {
    "resourceGroupName": "mlops-prod", "version": "16",
    "network": {"publicNetworkAccess": "Disabled"},
    "dataEncryption": {"type": "AzureKeyVault", "primaryKeyURI": "https://mlops-kv.vault.azure.net/keys/pg",
                       "primaryUserAssignedIdentityId": f"{RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pg"},
}
HARDENED_CLUSTER = {
    "resourceGroupName": "mlops-prod", "enableRBAC": True, "disableLocalAccounts": True,
    "aadProfile": {"managed": True, "enableAzureRBAC": True},
    "apiServerAccessProfile": {"enablePrivateCluster": True},
    "diskEncryptionSetID": f"{RG_ID}/providers/Microsoft.Compute/diskEncryptionSets/aks",
    "tags": {"environment": "prod", "owner": "ml-platform"},
}
HARDENED_VAULT = {"resourceGroupName": "mlops-prod",
                  "properties": {"tenantId": "t", "sku": {"family": "A", "name": "standard"},
                                 "enablePurgeProtection": True, "enableRbacAuthorization": True}}
HARDENED_WORKSPACE = {
    "resourceGroupName": "mlops-prod", "kind": "Default", "publicNetworkAccess": "Disabled",
    "encryption": {"status": "Enabled", "keyVaultProperties": {
        "keyIdentifier": "https://mlops-kv.vault.azure.net/keys/aml", "keyVaultArmId": f"{RG_ID}/providers/Microsoft.KeyVault/vaults/mlops-kv"}},
}




CASES = [
    # (rule module, type, base props, changes making it fail, expected message fragment)
    (sa_https, STORAGE, HARDENED_ACCOUNT, {"enableHttpsTrafficOnly": False}, "accepts unencrypted HTTP"),
    (sa_https, STORAGE, HARDENED_ACCOUNT, {"enableHttpsTrafficOnly": "false"}, "accepts unencrypted HTTP"),
    (sa_tls, STORAGE, HARDENED_ACCOUNT, {"minimumTlsVersion": "TLS1_0"}, "older than 1.2"),
    (sa_tls, STORAGE, HARDENED_ACCOUNT, {"minimumTlsVersion": "TLS1_1"}, "older than 1.2"),
    (sa_tls, STORAGE, HARDENED_ACCOUNT, {"minimumTlsVersion": ...}, "accepts TLS 1.0 and 1.1"),
    (sa_public, STORAGE, HARDENED_ACCOUNT, {"allowBlobPublicAccess": True}, "anonymously readable"),
    (sa_shared_key, STORAGE, HARDENED_ACCOUNT, {"allowSharedKeyAccess": True}, "grant full access"),
    (sa_shared_key, STORAGE, HARDENED_ACCOUNT, {"allowSharedKeyAccess": ...}, "treats as true"),
    (sa_cmk, STORAGE, HARDENED_ACCOUNT, {"encryption": ...}, "Microsoft-managed keys"),
    (sa_cmk, STORAGE, HARDENED_ACCOUNT, {"encryption__keySource": "Microsoft.Storage"}, "Microsoft-managed keys"),
    (sa_cmk, STORAGE, HARDENED_ACCOUNT, {"encryption__keyVaultProperties": ...}, "lacks keyName and keyVaultUri"),
    (sa_cmk, STORAGE, HARDENED_ACCOUNT, {"encryption__keyVaultProperties__keyName": ""}, "lacks keyName"),
    (pg_public, PG, HARDENED_SERVER, {"network__publicNetworkAccess": "Enabled"}, "public endpoint"),
    (pg_public, PG, HARDENED_SERVER, {"network": ...}, "Azure gives it a public endpoint"),
    (pg_public, PG, HARDENED_SERVER, {"network__publicNetworkAccess": ...}, "Azure gives it a public endpoint"),
    (pg_cmk, PG, HARDENED_SERVER, {"dataEncryption": ...}, "Microsoft-managed key"),
    (pg_cmk, PG, HARDENED_SERVER, {"dataEncryption__type": "SystemAssigned"}, "Microsoft-managed key"),
    (pg_cmk, PG, HARDENED_SERVER, {"dataEncryption__primaryKeyURI": ...}, "primaryKeyURI is not set"),
    (pg_cmk, PG, HARDENED_SERVER, {"dataEncryption__primaryUserAssignedIdentityId": ...}, "can read the key"),
    (aks_rbac, AKS, HARDENED_CLUSTER, {"enableRBAC": False}, "unrestricted access"),
    (aks_rbac, AKS, HARDENED_CLUSTER, {"enableRBAC": ...}, "state it explicitly"),
    (aks_local_accounts, AKS, HARDENED_CLUSTER, {"disableLocalAccounts": False}, "static cluster-admin"),
    (aks_local_accounts, AKS, HARDENED_CLUSTER, {"disableLocalAccounts": ...}, "static cluster-admin"),
    (aks_private, AKS, HARDENED_CLUSTER, {"apiServerAccessProfile": ...}, "public endpoint"),
    (aks_private, AKS, HARDENED_CLUSTER, {"apiServerAccessProfile__enablePrivateCluster": False}, "public endpoint"),
    (aks_private, AKS, HARDENED_CLUSTER, {"apiServerAccessProfile": ..., "tags": {"Environment": "Production"}},
     "public endpoint"),
    (aks_des, AKS, HARDENED_CLUSTER, {"diskEncryptionSetID": ...}, "Microsoft-managed keys"),
    (kv_purge, VAULT, HARDENED_VAULT, {"properties__enablePurgeProtection": ...}, "destroying every key"),
    (kv_purge, "azure-native:keyvault:ManagedHsm", {"properties": {"enablePurgeProtection": True}},
     {"properties__enablePurgeProtection": False}, "destroying every key"),
    (kv_rbac, VAULT, HARDENED_VAULT, {"properties__enableRbacAuthorization": False}, "vault access policies"),
    (kv_rbac, VAULT, HARDENED_VAULT, {"properties__enableRbacAuthorization": ...}, "treats as false"),
    (ml_public, WORKSPACE, HARDENED_WORKSPACE, {"publicNetworkAccess": "Enabled"}, "reachable from the internet"),
    (ml_public, WORKSPACE, HARDENED_WORKSPACE, {"publicNetworkAccess": ...}, "not set (Enabled)"),
    (ml_public, WORKSPACE, HARDENED_WORKSPACE, {"allowPublicAccessWhenBehindVnet": True}, "stays open"),
    (ml_cmk, WORKSPACE, HARDENED_WORKSPACE, {"encryption": ...}, "Microsoft-managed keys"),
    (ml_cmk, WORKSPACE, HARDENED_WORKSPACE, {"encryption__status": "Disabled"}, "Microsoft-managed keys"),
    (ml_cmk, WORKSPACE, HARDENED_WORKSPACE, {"encryption__keyVaultProperties__keyIdentifier": ""}, "keyIdentifier"),
    (scope_cmk, "azure-native:storage:EncryptionScope",
     {"accountName": "mlopsart", "source": "Microsoft.KeyVault", "keyVaultProperties": {"keyUri": "https://kv/keys/s"}},
     {"source": "Microsoft.Storage"}, "Microsoft-managed keys"),
    (scope_cmk, "azure-native:storage:EncryptionScope",
     {"accountName": "mlopsart", "source": "Microsoft.KeyVault", "keyVaultProperties": {"keyUri": "https://kv/keys/s"}},
     {"keyVaultProperties": ...}, "keyUri is not set"),
]


@pytest.mark.parametrize("module,type_,base,changes,expected", CASES, ids=case_ids(CASES))
def test_hardened_passes_and_insecure_variant_fails(module, type_, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, type_, base, changes, expected)


def test_rule_ignores_other_resource_types():
    assert check_resource(sa_https.RULE, PG, {"enableHttpsTrafficOnly": False}).passed


@pytest.mark.parametrize("token", [
    "azure-native:storage/v20230101:StorageAccount",                       # v2 explicit API version module
    "azure-native_storage_v20240101:storage/v20240101:StorageAccount",     # v3 `pulumi package add` local SDK
])
def test_api_versioned_type_tokens_are_checked_too(token):
    outcome = check_resource(sa_tls.RULE, token, variant(HARDENED_ACCOUNT, minimumTlsVersion="TLS1_0"))
    assert outcome.messages and "older than 1.2" in outcome.messages[0]


@pytest.mark.parametrize("module,type_,base,path", [
    (sa_tls, STORAGE, HARDENED_ACCOUNT, "minimumTlsVersion"),
    (sa_cmk, STORAGE, HARDENED_ACCOUNT, "encryption__keySource"),
    (pg_public, PG, HARDENED_SERVER, "network__publicNetworkAccess"),
    (aks_rbac, AKS, HARDENED_CLUSTER, "enableRBAC"),
    (kv_purge, VAULT, HARDENED_VAULT, "properties__enablePurgeProtection"),
    (role_assignment, ROLE_ASSIGNMENT, {"roleDefinitionId": "x", "scope": f"/subscriptions/{SUB}"}, "roleDefinitionId"),
])
def test_unknown_deciding_value_is_reported_as_cannot_check(module, type_, base, path):
    outcome = check_resource(module.RULE, type_, variant(base, **{path: UNKNOWN}))
    assert outcome.violations == []
    assert "cannot check during preview" in outcome.cannot_check
    assert path.split("__")[-1] in outcome.cannot_check


def test_key_ids_unknown_at_preview_count_as_set():
    """A key vault or disk encryption set created by the same program has an unknown id in preview."""
    assert check_resource(aks_des.RULE, AKS, variant(HARDENED_CLUSTER, diskEncryptionSetID=UNKNOWN)).passed
    assert check_resource(sa_cmk.RULE, STORAGE, variant(HARDENED_ACCOUNT, encryption__keyVaultProperties__keyVaultUri=UNKNOWN)).passed


def test_secure_defaults_pass_when_left_out():
    """HTTPS-only and no anonymous blob access are the API defaults: leaving them out is not a finding."""
    defaults = variant(HARDENED_ACCOUNT, enableHttpsTrafficOnly=..., allowBlobPublicAccess=...)
    assert check_resource(sa_https.RULE, STORAGE, defaults).passed
    assert check_resource(sa_public.RULE, STORAGE, defaults).passed


def test_postgres_in_delegated_subnet_is_private():
    vnet = variant(HARDENED_SERVER, network={"delegatedSubnetResourceId": f"{RG_ID}/providers/Microsoft.Network/virtualNetworks/v/subnets/pg",
                                            "privateDnsZoneArmResourceId": f"{RG_ID}/providers/Microsoft.Network/privateDnsZones/pg.postgres.database.azure.com"})
    assert check_resource(pg_public.RULE, PG, vnet).passed


class TestPrivateApiServerOnlyInProduction:
    public = variant(HARDENED_CLUSTER, apiServerAccessProfile=...)

    def test_dev_cluster_may_have_public_api(self):
        assert check_resource(aks_private.RULE, AKS, variant(self.public, tags={"environment": "dev"})).passed

    def test_untagged_cluster_is_not_treated_as_production(self):
        assert check_resource(aks_private.RULE, AKS, variant(self.public, tags=...)).passed

    def test_require_everywhere_config(self):
        outcome = check_resource(aks_private.RULE, AKS, variant(self.public, tags={"environment": "dev"}),
                                 config={"requireEverywhere": True})
        assert len(outcome.violations) == 1

    def test_custom_production_names(self):
        staging = variant(self.public, tags={"environment": "staging"})
        outcome = check_resource(aks_private.RULE, AKS, staging, config={"prodEnvironments": ["staging", "prod"]})
        assert len(outcome.violations) == 1

    def test_unknown_tags_cannot_be_checked(self):
        outcome = check_resource(aks_private.RULE, AKS, variant(self.public, tags=UNKNOWN))
        assert outcome.cannot_check and not outcome.violations


class TestMachineLearningProjects:
    def test_project_workspaces_inherit_from_their_hub(self):
        project = {"kind": "Project", "hubResourceId": f"{RG_ID}/providers/Microsoft.MachineLearningServices/workspaces/hub"}
        assert check_resource(ml_public.RULE, WORKSPACE, project).passed
        assert check_resource(ml_cmk.RULE, WORKSPACE, project).passed


OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


class TestPrivilegedRoleAssignments:
    @pytest.mark.parametrize("role_definition_id,scope,role", [
        (f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}", f"/subscriptions/{SUB}", "Owner"),
        (f"/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}", f"/subscriptions/{SUB}/", "Contributor"),
        (f"/providers/Microsoft.Authorization/roleDefinitions/{USER_ACCESS_ADMIN.upper()}",
         "/providers/Microsoft.Management/managementGroups/platform", "User Access Administrator"),
        (f"/providers/Microsoft.Management/managementGroups/platform/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
         "/", "Owner"),
    ])
    def test_privileged_role_at_broad_scope_fails(self, role_definition_id, scope, role):
        outcome = check_resource(role_assignment.RULE, ROLE_ASSIGNMENT,
                                 {"principalId": "p", "roleDefinitionId": role_definition_id, "scope": scope})
        assert len(outcome.violations) == 1 and role in outcome.messages[0]

    @pytest.mark.parametrize("role_definition_id,scope", [
        (f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}", RG_ID),
        (f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}",
         f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/mlopsart"),
        (f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{READER}", f"/subscriptions/{SUB}"),
    ])
    def test_narrow_scope_or_unprivileged_role_passes(self, role_definition_id, scope):
        assert check_resource(role_assignment.RULE, ROLE_ASSIGNMENT,
                              {"principalId": "p", "roleDefinitionId": role_definition_id, "scope": scope}).passed

    def test_scope_unknown_only_matters_for_privileged_roles(self):
        reader = f"/providers/Microsoft.Authorization/roleDefinitions/{READER}"
        assert check_resource(role_assignment.RULE, ROLE_ASSIGNMENT, {"roleDefinitionId": reader, "scope": UNKNOWN}).passed
        owner = f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
        outcome = check_resource(role_assignment.RULE, ROLE_ASSIGNMENT, {"roleDefinitionId": owner, "scope": UNKNOWN})
        assert outcome.cannot_check and "scope" in outcome.cannot_check


def test_exclude_for_skips_named_resources():
    insecure = variant(HARDENED_ACCOUNT, minimumTlsVersion="TLS1_0")
    assert check_resource(sa_tls.RULE, STORAGE, insecure, name="legacy-sa", config={"excludeFor": ["legacy-*"]}).passed
    assert not check_resource(sa_tls.RULE, STORAGE, insecure, name="artifacts", config={"excludeFor": ["legacy-*"]}).passed
