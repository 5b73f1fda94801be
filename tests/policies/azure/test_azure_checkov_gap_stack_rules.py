"""Stack rules written for the Checkov coverage gaps (issue 13), Azure: a diagnostic setting, blob service or
private endpoint is matched to the cluster, account or vault it serves by its literal ARM id (plans) or the
engine's dependency (real previews, where ids are unknown)."""
import pytest

from mlops_azure_policies.containerservice import managed_cluster_diagnostic_logs as aks_logs
from mlops_azure_policies.keyvault import vault_private_endpoint as kv_endpoint
from mlops_azure_policies.storage import account_blob_access_logging as blob_logging
from mlops_azure_policies.storage import account_blob_soft_delete as soft_delete
from tests.policies.cloud_policy_harness import UNKNOWN, Res, check_stack

RG = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/mlops-azure-prod-rg"
WORKSPACE = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/mlops-azure-prod-logs"
DIAG = "azure-native:monitor:DiagnosticSetting"
ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_LOGS = [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")]


def flagged(outcome) -> list:
    return sorted(urn.rsplit("::", 1)[-1] for _, urn in outcome.violations)


def _accounts(artifacts_logs=BLOB_LOGS, literal=True, account_level=False):
    uri = f"{RG}/providers/Microsoft.Storage/storageAccounts/mlopsartifacts"
    resources = [Res(ACCOUNT, "tracking-artifacts", {"accountName": "mlopsartifacts", "resourceGroupName": "mlops-azure-prod-rg"}),
                 Res(ACCOUNT, "features-store", {"accountName": "mlopsfeatures", "resourceGroupName": "mlops-azure-prod-rg"}),
                 Res(DIAG, "monitoring-diag-blob-features",
                     {"resourceUri": f"{RG}/providers/Microsoft.Storage/storageAccounts/mlopsfeatures/blobServices/default",
                      "workspaceId": WORKSPACE, "logs": BLOB_LOGS})]
    if artifacts_logs is not None:
        resources.append(Res(DIAG, "monitoring-diag-blob-artifacts",
                             {"resourceUri": (uri if account_level else f"{uri}/blobServices/default") if literal else UNKNOWN,
                              "workspaceId": WORKSPACE, "logs": artifacts_logs}, deps=["tracking-artifacts"]))
    return resources


@pytest.mark.parametrize("literal", [True, False])
def test_accounts_whose_blob_service_logs_reads_writes_deletes_pass(literal):
    assert check_stack(blob_logging.RULE, _accounts(literal=literal)).passed
    all_logs = [{"categoryGroup": "allLogs", "enabled": True}]
    assert check_stack(blob_logging.RULE, _accounts(artifacts_logs=all_logs, literal=literal)).passed


@pytest.mark.parametrize("changes, expected", [
    ({"artifacts_logs": None}, "logs no StorageRead, StorageWrite, StorageDelete"),
    ({"artifacts_logs": BLOB_LOGS[1:]}, "logs no StorageRead"),
    ({"account_level": True}, "logs no StorageRead"),   # a setting on the account itself carries no blob logs
])
def test_account_without_blob_read_logging_fails(changes, expected):
    outcome = check_stack(blob_logging.RULE, _accounts(**changes))
    assert flagged(outcome) == ["tracking-artifacts"] and expected in outcome.messages[0], outcome


def test_blob_logging_setting_with_unknown_categories_is_cannot_check():
    outcome = check_stack(blob_logging.RULE, _accounts(artifacts_logs=UNKNOWN))
    assert outcome.messages == [] and "cannot check during preview" in outcome.cannot_check


def _blob_services(**policies):
    base = {"deleteRetentionPolicy": {"days": 14, "enabled": True},
            "containerDeleteRetentionPolicy": {"days": 14, "enabled": True}}
    base.update(policies)
    return [Res(ACCOUNT, "tracking-artifacts", {"accountName": "mlopsartifacts", "resourceGroupName": "rg"}),
            Res("azure-native:storage:BlobServiceProperties", "tracking-artifacts-blob",
                {"accountName": UNKNOWN, "resourceGroupName": "rg", "blobServicesName": "default", **base},
                deps=["tracking-artifacts"])]


def test_blob_and_container_soft_delete_pass():
    assert check_stack(soft_delete.RULE, _blob_services()).passed


@pytest.mark.parametrize("stack, expected", [
    (_blob_services(deleteRetentionPolicy={"enabled": False}), "deleteRetentionPolicy is not enabled"),
    (_blob_services(containerDeleteRetentionPolicy=None), "containerDeleteRetentionPolicy is not enabled"),
    (_blob_services()[:1], "has no BlobServiceProperties"),
])
def test_missing_soft_delete_fails(stack, expected):
    outcome = check_stack(soft_delete.RULE, stack)
    assert flagged(outcome) == ["tracking-artifacts"] and expected in outcome.messages[0], outcome


CLUSTER = "azure-native:containerservice:ManagedCluster"


def _cluster(logs, literal=True):
    uri = f"{RG}/providers/Microsoft.ContainerService/managedClusters/mlops-azure-prod" if literal else UNKNOWN
    resources = [Res(CLUSTER, "cluster", {"resourceName": "mlops-azure-prod"})]
    if logs is not None:
        resources.append(Res(DIAG, "monitoring-diag-cluster", {"resourceUri": uri, "workspaceId": WORKSPACE,
                                                               "logs": logs}, deps=["cluster"]))
    return resources


@pytest.mark.parametrize("literal", [True, False])
def test_cluster_sending_its_audit_log_passes(literal):
    logs = [{"category": c, "enabled": True} for c in ("kube-apiserver", "kube-audit-admin", "guard")]
    assert check_stack(aks_logs.RULE, _cluster(logs, literal)).passed


@pytest.mark.parametrize("logs, expected", [
    (None, "has no diagnostic setting"),
    ([{"category": "kube-apiserver", "enabled": True}, {"category": "kube-audit", "enabled": False}], "no audit log"),
])
def test_cluster_without_audit_log_fails(logs, expected):
    outcome = check_stack(aks_logs.RULE, _cluster(logs))
    assert flagged(outcome) == ["cluster"] and expected in outcome.messages[0], outcome


VAULT = "azure-native:keyvault:Vault"


def _vaults(endpoint_for=("keys-vault", "keys-dr-vault"), literal=True):
    resources = [Res(VAULT, "keys-vault", {"vaultName": "mlops-azure-pro-e08ce2"}),
                 Res(VAULT, "keys-dr-vault", {"vaultName": "mlops-azure-pro-c6d478"}),
                 Res("azure-native:network:PrivateEndpoint", "tracking-artifacts-pe", {"privateLinkServiceConnections": [
                     {"groupIds": ["blob"], "privateLinkServiceId": f"{RG}/providers/Microsoft.Storage/storageAccounts/x"}]})]
    for vault in endpoint_for:
        name = next(r.props["vaultName"] for r in resources if r.name == vault)
        target = f"{RG}/providers/Microsoft.KeyVault/vaults/{name}" if literal else UNKNOWN
        resources.append(Res("azure-native:network:PrivateEndpoint", f"{vault}-pe", {"privateLinkServiceConnections": [
            {"groupIds": ["vault"], "privateLinkServiceId": target}]}, deps=[vault]))
    return resources


@pytest.mark.parametrize("literal", [True, False])
def test_vaults_with_private_endpoints_pass(literal):
    assert check_stack(kv_endpoint.RULE, _vaults(literal=literal)).passed


def test_vault_without_private_endpoint_fails():
    outcome = check_stack(kv_endpoint.RULE, _vaults(endpoint_for=("keys-vault",)))
    assert flagged(outcome) == ["keys-dr-vault"] and "no private endpoint" in outcome.messages[0], outcome
