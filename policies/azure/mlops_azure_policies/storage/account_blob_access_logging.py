"""Every storage account logs blob reads, writes and deletes (StorageRead/Write/Delete) to Azure Monitor.

Model artifacts and feature files are what an incident review asks about ("who downloaded this
model?"): the Azure counterpart of S3 server access logging. Blob logs are configured on the
account's blob service (``<account id>/blobServices/default``), not on the account itself; the
diagnostic setting is matched by its resourceUri (literal) or the engine's dependency on the account.
"""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, violation

from .._azure import azure_types, diagnostic_settings, enabled_log_categories, of_types

ACCOUNT = "azure-native:storage:StorageAccount"
CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
GROUPS = ("allLogs", "audit")  # category groups that include all three (audit: read, write and delete)


def check(stack, config):
    accounts = of_types(stack.resources, azure_types(ACCOUNT))
    settings = diagnostic_settings(stack.resources, accounts, lambda a: a.props.get("accountName"),
                                   suffix="/blobServices/default")
    for account in accounts:
        enabled, unknown = enabled_log_categories(settings.get(account.urn, []))
        missing = [] if enabled & set(GROUPS) else [c for c in CATEGORIES if c not in enabled]
        if not missing:
            continue
        if unknown:
            yield cannot_check("DiagnosticSetting logs", account)
        else:
            yield violation(f"storage account {account.name}: its blob service logs no {', '.join(missing)}; who read "
                            "or changed which blob is not recorded.", account)


RULE = StackRule(
    name="azure-storage-account-enable-blob-access-logging",
    description="Storage accounts must log blob reads, writes and deletes through a diagnostic setting on the blob service.",
    severity="medium",
    remediation="Add azure_native.monitor.DiagnosticSetting(resource_uri=account.id + '/blobServices/default', "
                "workspace_id=<Log Analytics>, logs=[StorageRead, StorageWrite, StorageDelete]) "
                "(components/monitoring does for every account of the platform).",
    frameworks=CIS_AZURE("3.13") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",
    tags=("storage", "logging"),
    resource_types=azure_types(ACCOUNT, "azure-native:monitor:DiagnosticSetting"),
    check=check,
)
