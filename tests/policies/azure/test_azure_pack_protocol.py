"""The Azure pack boots the way the CLI starts it and answers over the Analyzer protocol."""
from pathlib import Path

import mlops_azure_policies
from mlops_tools.policy.runner import run_policy_packs
from tests.policies.cloud_policy_harness import UNKNOWN, assert_pack_describes_every_rule, resource, rules_of

PACK = Path(__file__).resolve().parents[3] / "policies" / "azure"


def test_pack_boots_describes_every_rule_and_reports_through_the_protocol():
    weak = resource("azure-native:storage:StorageAccount", "weak", {
        "resourceGroupName": "rg", "minimumTlsVersion": "TLS1_0", "allowSharedKeyAccess": False, "publicNetworkAccess": "Disabled",
        "encryption": {"keySource": UNKNOWN}, "isLocalUserEnabled": False, "sku": {"name": "Standard_ZRS"}})
    # its blob service: soft delete on, reads/writes/deletes logged (the stack rules correlate by dependency)
    blob = resource("azure-native:storage:BlobServiceProperties", "weak-blob", {
        "resourceGroupName": "rg", "accountName": UNKNOWN, "deleteRetentionPolicy": {"enabled": True, "days": 14},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 14}}, dependencies=(weak["urn"],))
    logs = resource("azure-native:monitor:DiagnosticSetting", "weak-blob-logs", {
        "resourceUri": UNKNOWN, "workspaceId": "/subscriptions/s/workspaces/logs",
        "logs": [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")]},
        dependencies=(weak["urn"],))
    server = resource("azure-native:dbforpostgresql:Server", "tracking", {
        "resourceGroupName": "rg", "serverName": "tracking", "network": {"publicNetworkAccess": "Disabled"},
        "backup": {"geoRedundantBackup": "Enabled"},
        "dataEncryption": {"type": "AzureKeyVault", "primaryKeyURI": "https://kv/keys/pg",
                           "primaryUserAssignedIdentityId": "/subscriptions/s/id"}})
    packs, violations = run_policy_packs([weak, blob, logs, server], [PACK], policy_config={
        "azure-storage-account-require-tls12": "advisory"})

    assert [p.name for p in packs] == ["mlops-azure"]
    assert_pack_describes_every_rule(packs[0], mlops_azure_policies)
    found = {(v.policy, v.urn, v.enforcement) for v in violations}
    assert found == {
        ("azure-storage-account-require-tls12", weak["urn"], "advisory"),          # level overridden by config
        ("azure-storage-account-enable-cmk-encryption", weak["urn"], "advisory"),  # keySource unknown: cannot check
        ("azure-dbforpostgresql-server-require-secure-transport", server["urn"], "mandatory"),  # stack rule
    }
    unknown = next(v for v in violations if v.policy == "azure-storage-account-enable-cmk-encryption")
    assert "cannot check during preview" in unknown.message and "encryption.keySource" in unknown.message


def test_every_rule_is_documented():
    doc = (PACK.parents[1] / "docs" / "policies-azure-gcp.md").read_text()
    assert [name for name in rules_of(mlops_azure_policies) if f"`{name}`" not in doc] == []
