"""A Pulumi program built with the real azure-native SDK, previewed offline and checked by the Azure pack.

Each rule meets one hardened and one insecure resource; the pack must report EXACTLY the
insecure ones (no misses, no noise), correlating across resources as a real preview would.
"""
from pathlib import Path

import pulumi
import pulumi_azure_native as azure

from mlops_tools.policy.runner import run_policy_packs
from mlops_tools.engine.preview import preview_program

PACK = Path(__file__).resolve().parents[3] / "policies" / "azure"
RG = "mlops-prod"
SUBSCRIPTION = "/subscriptions/00000000-0000-4000-8000-000000000000"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CRYPTO_SERVICE_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
PROD = {"environment": "prod", "owner": "ml-platform"}


def program():
    identity = azure.managedidentity.UserAssignedIdentity("data-identity", resource_group_name=RG)
    vault = azure.keyvault.Vault("vault-hardened", resource_group_name=RG, vault_name="mlops-prod-kv", properties={
        "tenant_id": "11111111-1111-4111-8111-111111111111", "sku": {"family": "A", "name": "standard"},
        "enable_purge_protection": True, "enable_rbac_authorization": True})
    azure.keyvault.Vault("vault-insecure", resource_group_name=RG, vault_name="mlops-legacy-kv", properties={
        "tenant_id": "11111111-1111-4111-8111-111111111111", "sku": {"family": "A", "name": "standard"}})
    key = azure.keyvault.Key("data-key", resource_group_name=RG, vault_name=vault.name, key_name="data", properties={
        "kty": "RSA", "key_size": 3072, "rotation_policy": {
            "lifetime_actions": [{"action": {"type": "rotate"}, "trigger": {"time_after_create": "P90D"}}],
            "attributes": {"expiry_time": "P1Y"}}})
    legacy_key = azure.keyvault.Key("legacy-key", resource_group_name=RG, vault_name=vault.name, key_name="legacy",
                                    properties={"kty": "RSA", "key_size": 2048})
    cmk = {"key_source": "Microsoft.Keyvault",
           "key_vault_properties": {"key_name": key.name, "key_vault_uri": vault.properties.vault_uri},
           "encryption_identity": {"encryption_user_assigned_identity": identity.id}}

    key_grant = azure.authorization.RoleAssignment(
        "data-key-grant", principal_id=identity.principal_id, principal_type="ServicePrincipal", scope=key.id,
        role_definition_id=f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE_USER}")
    after_grant = pulumi.ResourceOptions(depends_on=[key_grant])
    azure.storage.StorageAccount("account-hardened", resource_group_name=RG, kind="StorageV2",
                                 sku={"name": "Standard_ZRS"}, minimum_tls_version="TLS1_2",
                                 allow_blob_public_access=False, allow_shared_key_access=False, encryption=cmk,
                                 public_network_access="Disabled", network_rule_set={"default_action": "Deny"},
                                 identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
                                 opts=after_grant)
    # Hardened in every setting, but created in parallel with its key grant.
    azure.storage.StorageAccount("account-racing", resource_group_name=RG, kind="StorageV2",
                                 sku={"name": "Standard_ZRS"}, minimum_tls_version="TLS1_2",
                                 allow_blob_public_access=False, allow_shared_key_access=False, encryption=cmk,
                                 public_network_access="Disabled", network_rule_set={"default_action": "Deny"},
                                 identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]})
    azure.storage.StorageAccount("account-insecure", resource_group_name=RG, kind="StorageV2",
                                 sku={"name": "Standard_LRS"}, enable_https_traffic_only=False,
                                 minimum_tls_version="TLS1_0", allow_blob_public_access=True)
    azure.storage.EncryptionScope("scope-hardened", resource_group_name=RG, account_name="mlopsartifacts",
                                  source="Microsoft.KeyVault", key_vault_properties={"key_uri": key.key_uri})
    azure.storage.EncryptionScope("scope-insecure", resource_group_name=RG, account_name="mlopsartifacts",
                                  source="Microsoft.Storage")
    azure.storage.EncryptionScope("scope-legacy-key", resource_group_name=RG, account_name="mlopsartifacts",
                                  source="Microsoft.KeyVault", key_vault_properties={"key_uri": legacy_key.key_uri})

    pg_cmk = {"type": "AzureKeyVault", "primary_key_uri": key.key_uri_with_version,
              "primary_user_assigned_identity_id": identity.id}
    hardened_server = azure.dbforpostgresql.Server("tracking-db-hardened", resource_group_name=RG, version="16",
                                                   network={"public_network_access": "Disabled"},
                                                   data_encryption=pg_cmk, opts=after_grant)
    azure.dbforpostgresql.Configuration("tracking-db-hardened-tls", resource_group_name=RG,
                                        server_name=hardened_server.name,
                                        configuration_name="require_secure_transport", value="ON",
                                        source="user-override")
    insecure_server = azure.dbforpostgresql.Server("tracking-db-insecure", resource_group_name=RG,
                                                   version="14")  # retired 2026-11-12
    azure.dbforpostgresql.Configuration("tracking-db-insecure-logs", resource_group_name=RG,
                                        server_name=insecure_server.name, configuration_name="log_connections",
                                        value="ON", source="user-override")

    azure.containerservice.ManagedCluster(
        "aks-hardened", resource_group_name=RG, dns_prefix="mlops", tags=PROD, enable_rbac=True,
        disable_local_accounts=True, aad_profile={"managed": True, "enable_azure_rbac": True},
        api_server_access_profile={"enable_private_cluster": True},
        disk_encryption_set_id=f"{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/diskEncryptionSets/aks",
        agent_pool_profiles=[{"name": "system", "mode": "System", "count": 3, "vm_size": "Standard_D4s_v5"}])
    azure.containerservice.ManagedCluster(
        "aks-insecure", resource_group_name=RG, dns_prefix="mlops-legacy", tags=PROD, enable_rbac=False,
        kubernetes_version="1.33",  # out of AKS support
        agent_pool_profiles=[{"name": "system", "mode": "System", "count": 1, "vm_size": "Standard_D4s_v5"}])

    azure.machinelearningservices.Workspace(
        "workspace-hardened", resource_group_name=RG, public_network_access="Disabled",
        encryption={"status": "Enabled", "key_vault_properties": {"key_identifier": key.key_uri_with_version,
                                                                  "key_vault_arm_id": vault.id}})
    azure.machinelearningservices.Workspace("workspace-insecure", resource_group_name=RG)

    azure.authorization.RoleAssignment(
        "reader-on-subscription", principal_id=identity.principal_id, principal_type="ServicePrincipal",
        scope=SUBSCRIPTION, role_definition_id=f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{READER}")
    azure.authorization.RoleAssignment(
        "owner-on-subscription", principal_id=identity.principal_id, principal_type="ServicePrincipal",
        scope=SUBSCRIPTION, role_definition_id=f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}")
    custom = "22222222-3333-4444-8555-666666666666"
    narrow = "33333333-4444-4555-8666-777777777777"
    azure.authorization.RoleDefinition(
        "ml-superuser", role_definition_id=custom, role_name="ml-superuser", scope=SUBSCRIPTION,
        permissions=[{"actions": ["*"]}], assignable_scopes=[SUBSCRIPTION])
    azure.authorization.RoleDefinition(
        "ml-reader", role_definition_id=narrow, role_name="ml-reader", scope=SUBSCRIPTION,
        permissions=[{"actions": ["Microsoft.Storage/storageAccounts/read"]}], assignable_scopes=[SUBSCRIPTION])
    for role, guid in (("ml-superuser", custom), ("ml-reader", narrow)):
        azure.authorization.RoleAssignment(
            f"{role}-on-subscription", principal_id=identity.principal_id, principal_type="ServicePrincipal",
            scope=SUBSCRIPTION, role_definition_id=f"{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
    pulumi.export("vaultUri", vault.properties.vault_uri)


EXPECTED = {
    ("azure-keyvault-vault-enable-purge-protection", "vault-insecure"),
    ("azure-keyvault-vault-enable-rbac-authorization", "vault-insecure"),
    ("azure-keyvault-key-enable-key-rotation", "legacy-key"),
    ("azure-storage-account-require-https-only", "account-insecure"),
    ("azure-storage-account-require-tls12", "account-insecure"),
    ("azure-storage-account-disallow-public-blob-access", "account-insecure"),
    ("azure-storage-account-disable-shared-key-access", "account-insecure"),
    ("azure-storage-account-enable-cmk-encryption", "account-insecure"),
    ("azure-storage-encryptionscope-enable-cmk-encryption", "scope-insecure"),
    ("azure-dbforpostgresql-server-disallow-public-access", "tracking-db-insecure"),
    ("azure-dbforpostgresql-server-enable-cmk-encryption", "tracking-db-insecure"),
    ("azure-dbforpostgresql-server-require-secure-transport", "tracking-db-insecure"),
    ("azure-containerservice-managedcluster-enable-rbac", "aks-insecure"),
    ("azure-containerservice-managedcluster-disable-local-accounts", "aks-insecure"),
    ("azure-containerservice-managedcluster-require-private-api-server", "aks-insecure"),
    ("azure-containerservice-managedcluster-enable-disk-encryption-set", "aks-insecure"),
    ("azure-containerservice-managedcluster-require-supported-version", "aks-insecure"),
    ("azure-dbforpostgresql-server-require-supported-version", "tracking-db-insecure"),
    ("azure-machinelearningservices-workspace-disallow-public-access", "workspace-insecure"),
    ("azure-machinelearningservices-workspace-enable-cmk-encryption", "workspace-insecure"),
    ("azure-authorization-roleassignment-disallow-privileged-roles", "owner-on-subscription"),
    ("azure-storage-account-require-network-default-deny", "account-insecure"),
    ("azure-authorization-roledefinition-disallow-wildcard-actions", "ml-superuser"),
    ("azure-authorization-roleassignment-disallow-wildcard-custom-roles", "ml-superuser-on-subscription"),
    ("azure-authorization-cmk-store-require-key-grant-first", "account-racing"),
}


def test_pack_reports_exactly_the_insecure_resources():
    result = preview_program(program, project="mlops-platform", stack="azure-prod",
                             config={"mlops:cloud": "azure", "mlops:region": "westeurope"})
    packs, violations = run_policy_packs(result.resources, [PACK])

    names = {r["urn"]: r["name"] for r in result.resources}
    found = {(v.policy, names.get(v.urn)) for v in violations}
    assert found == EXPECTED
    assert len(violations) == len(EXPECTED)  # one finding per rule and resource, no duplicates
    assert {v.enforcement for v in violations} == {"mandatory"}  # every value is known: nothing "cannot check"
    every_rule = {p.name for p in packs[0].policies}
    assert every_rule == {policy for policy, _ in EXPECTED}  # each rule met an insecure resource
    rotation = next(v for v in violations if v.policy == "azure-keyvault-key-enable-key-rotation")
    assert rotation.message.startswith("key legacy-key (protects scope-legacy-key) ")  # correlated across the stack
