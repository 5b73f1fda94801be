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
ENDPOINT_SUBNET = f"{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints"
BLOB_LOGS = [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")]


def blob_service_and_logs(name: str, account, workspace) -> None:
    """Soft delete on the account's blob service, and its reads/writes/deletes into the workspace."""
    azure.storage.BlobServiceProperties(f"{name}-blob", resource_group_name=RG, account_name=account.name,
                                        blob_services_name="default",
                                        delete_retention_policy={"enabled": True, "days": 14},
                                        container_delete_retention_policy={"enabled": True, "days": 14})
    azure.monitor.DiagnosticSetting(f"{name}-blob-logs", resource_uri=account.id.apply(lambda i: f"{i}/blobServices/default"),
                                    workspace_id=workspace.id, logs=BLOB_LOGS)


def program():
    identity = azure.managedidentity.UserAssignedIdentity("data-identity", resource_group_name=RG)
    vault = azure.keyvault.Vault("vault-hardened", resource_group_name=RG, vault_name="mlops-prod-kv", properties={
        "tenant_id": "11111111-1111-4111-8111-111111111111", "sku": {"family": "A", "name": "standard"},
        "enable_purge_protection": True, "enable_rbac_authorization": True, "public_network_access": "Disabled",
        "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}})
    azure.network.PrivateEndpoint("vault-hardened-pe", resource_group_name=RG, subnet={"id": ENDPOINT_SUBNET},
                                  private_link_service_connections=[{"name": "vault", "group_ids": ["vault"],
                                                                     "private_link_service_id": vault.id}])
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
    workspace = azure.operationalinsights.Workspace("logs", resource_group_name=RG, sku={"name": "PerGB2018"})
    hardened_account = azure.storage.StorageAccount("account-hardened", resource_group_name=RG, kind="StorageV2",
                                 sku={"name": "Standard_ZRS"}, minimum_tls_version="TLS1_2",
                                 allow_blob_public_access=False, allow_shared_key_access=False, encryption=cmk,
                                 public_network_access="Disabled", network_rule_set={"default_action": "Deny"},
                                 identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
                                 is_local_user_enabled=False, opts=after_grant)
    blob_service_and_logs("account-hardened", hardened_account, workspace)
    # Hardened in every setting, but created in parallel with its key grant.
    racing = azure.storage.StorageAccount("account-racing", resource_group_name=RG, kind="StorageV2",
                                 sku={"name": "Standard_ZRS"}, minimum_tls_version="TLS1_2",
                                 allow_blob_public_access=False, allow_shared_key_access=False, encryption=cmk,
                                 public_network_access="Disabled", network_rule_set={"default_action": "Deny"},
                                 identity={"type": "UserAssigned", "user_assigned_identities": [identity.id]},
                                 is_local_user_enabled=False)
    blob_service_and_logs("account-racing", racing, workspace)
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
                                                   backup={"geo_redundant_backup": "Enabled"},
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

    hardened_cluster = azure.containerservice.ManagedCluster(
        "aks-hardened", resource_group_name=RG, dns_prefix="mlops", tags=PROD, enable_rbac=True,
        sku={"name": "Base", "tier": "Standard"},
        auto_upgrade_profile={"upgrade_channel": "patch", "node_os_upgrade_channel": "NodeImage"},
        network_profile={"network_plugin": "azure", "network_plugin_mode": "overlay", "network_policy": "cilium"},
        disable_local_accounts=True, aad_profile={"managed": True, "enable_azure_rbac": True},
        api_server_access_profile={"enable_private_cluster": True},
        disk_encryption_set_id=f"{SUBSCRIPTION}/resourceGroups/{RG}/providers/Microsoft.Compute/diskEncryptionSets/aks",
        agent_pool_profiles=[{"name": "system", "mode": "System", "count": 3, "vm_size": "Standard_D4s_v5",
                              "type": "VirtualMachineScaleSets", "max_pods": 110, "enable_node_public_ip": False,
                              "enable_encryption_at_host": True, "node_taints": ["CriticalAddonsOnly=true:NoSchedule"]}])
    azure.monitor.DiagnosticSetting("aks-hardened-logs", resource_uri=hardened_cluster.id, workspace_id=workspace.id,
                                    logs=[{"category": "kube-audit-admin", "enabled": True}])
    azure.containerservice.ManagedCluster(
        "aks-insecure", resource_group_name=RG, dns_prefix="mlops-legacy", tags=PROD, enable_rbac=False,
        kubernetes_version="1.33",  # out of AKS support
        agent_pool_profiles=[{"name": "system", "mode": "System", "count": 1, "vm_size": "Standard_D4s_v5",
                              "type": "AvailabilitySet", "max_pods": 30, "enable_node_public_ip": True}])

    vnet_only = {"name": "postgres-from-nodes", "priority": 100, "access": "Allow", "direction": "Inbound",
                 "protocol": "Tcp", "source_address_prefix": "10.50.0.0/19", "source_port_range": "*",
                 "destination_address_prefix": "*", "destination_port_range": "5432"}
    nsg = azure.network.NetworkSecurityGroup("nsg-hardened", resource_group_name=RG, security_rules=[vnet_only])
    azure.network.NetworkSecurityGroup("nsg-insecure", resource_group_name=RG, security_rules=[
        {**vnet_only, "name": "ssh-from-anywhere", "source_address_prefix": "Internet", "destination_port_range": "22"}])
    azure.network.Subnet("subnet-hardened", resource_group_name=RG, virtual_network_name="vnet", subnet_name="nodes",
                         address_prefix="10.50.0.0/19", network_security_group={"id": nsg.id})
    azure.network.Subnet("subnet-insecure", resource_group_name=RG, virtual_network_name="vnet", subnet_name="legacy",
                         address_prefix="10.50.32.0/24")
    # Subscription-wide: with the plan in the stack every registry's images are scanned (the rule's failing side is
    # tested in test_azure_checkov_gap_controls.py).
    azure.security.Pricing("defender-containers", scope_id=SUBSCRIPTION.lstrip("/"), pricing_name="Containers",
                           pricing_tier="Standard")
    azure.containerregistry.Registry(
        "registry-hardened", resource_group_name=RG, sku={"name": "Premium"}, admin_user_enabled=False,
        anonymous_pull_enabled=False, public_network_access="Disabled", zone_redundancy="Enabled",
        policies={"retention_policy": {"status": "enabled", "days": 14}})
    azure.containerregistry.Registry("registry-insecure", resource_group_name=RG, sku={"name": "Premium"},
                                     admin_user_enabled=True, anonymous_pull_enabled=True)

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
    # Checkov coverage gaps (issue 13)
    ("azure-keyvault-vault-disallow-public-network-access", "vault-insecure"),
    ("azure-keyvault-vault-require-private-endpoint", "vault-insecure"),
    ("azure-storage-account-disable-local-users", "account-insecure"),
    ("azure-storage-account-enable-blob-access-logging", "account-insecure"),
    ("azure-storage-account-enable-soft-delete", "account-insecure"),
    ("azure-storage-account-require-zone-or-geo-redundancy", "account-insecure"),
    ("azure-dbforpostgresql-server-enable-geo-redundant-backup", "tracking-db-insecure"),
    ("azure-containerservice-managedcluster-enable-diagnostic-logs", "aks-insecure"),
    ("azure-containerservice-managedcluster-enable-network-policy", "aks-insecure"),
    ("azure-containerservice-managedcluster-require-azure-cni", "aks-insecure"),
    ("azure-containerservice-managedcluster-require-paid-tier", "aks-insecure"),
    ("azure-containerservice-managedcluster-enable-auto-upgrade", "aks-insecure"),
    ("azure-containerservice-nodepool-disallow-public-ip", "aks-insecure"),
    ("azure-containerservice-nodepool-require-min-max-pods", "aks-insecure"),
    ("azure-containerservice-nodepool-require-scale-sets", "aks-insecure"),
    ("azure-network-securitygroup-disallow-internet-ingress", "nsg-insecure"),
    ("azure-containerregistry-registry-disable-admin-user", "registry-insecure"),
    ("azure-containerregistry-registry-disable-anonymous-pull", "registry-insecure"),
    ("azure-containerregistry-registry-disallow-public-network-access", "registry-insecure"),
    ("azure-containerregistry-registry-enable-retention-policy", "registry-insecure"),
    ("azure-containerregistry-registry-enable-zone-redundancy", "registry-insecure"),
    ("azure-containerservice-nodepool-enable-encryption-at-host", "aks-insecure"),
    ("azure-containerservice-nodepool-system-critical-addons-only", "aks-insecure"),
    ("azure-network-subnet-require-nsg", "subnet-insecure"),
}
# Rules whose scope is wider than a resource: they pass this whole stack, their failing side has its own tests.
SUBSCRIPTION_WIDE = {"azure-security-pricing-enable-defender-for-containers"}


def test_pack_reports_exactly_the_insecure_resources():
    result = preview_program(program, project="mlops-platform", stack="azure-prod",
                             config={"mlops:cloud": "azure", "mlops:region": "westeurope"})
    packs, violations = run_policy_packs(result.resources, [PACK])

    names = {r["urn"]: r["name"] for r in result.resources}
    found = {(v.policy, names.get(v.urn)) for v in violations}
    assert found == EXPECTED
    assert len(violations) == len(EXPECTED)  # one finding per rule and resource, no duplicates
    # every value is known: nothing "cannot check"; each finding at its rule's own level
    assert not [v for v in violations if "cannot check during preview" in v.message]
    assert {(v.policy, v.enforcement) for v in violations} == {(p.name, p.enforcement_level) for p in packs[0].policies
                                                               if p.name not in SUBSCRIPTION_WIDE}
    every_rule = {p.name for p in packs[0].policies}
    assert every_rule - SUBSCRIPTION_WIDE == {policy for policy, _ in EXPECTED}  # each rule met an insecure resource
    rotation = next(v for v in violations if v.policy == "azure-keyvault-key-enable-key-rotation")
    assert rotation.message.startswith("key legacy-key (protects scope-legacy-key) ")  # correlated across the stack
