"""Every storage account keeps deleted blobs and containers for a retention period (soft delete).

A deleted model version or feature file (a bad cleanup job, a compromised identity) is restorable
while soft delete holds it; versioning alone does not bring back a deleted container. Read from
the account's ``BlobServiceProperties`` (matched by accountName or the engine's dependency).
"""
from mlops_policy import CIS_AZURE, ISO27001, SOC2, StackRule, cannot_check, get, is_unknown, violation

from .._azure import azure_types, linked, of_types

ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
POLICIES = ("deleteRetentionPolicy", "containerDeleteRetentionPolicy")


def check(stack, config):
    accounts = of_types(stack.resources, azure_types(ACCOUNT))
    services: dict = {}
    for service in of_types(stack.resources, azure_types(BLOB_SERVICE)):
        for account in linked(service, "accountName", accounts, lambda a: a.props.get("accountName")).matches:
            services.setdefault(account.urn, []).append(service)
    for account in accounts:
        found = services.get(account.urn, [])
        if not found:
            yield violation(f"storage account {account.name} has no BlobServiceProperties: blob and container soft "
                            "delete are off.", account)
            continue
        for policy in POLICIES:
            values = [get(s.props, f"{policy}.enabled") for s in found]
            if any(is_unknown(v) for v in values):
                yield cannot_check(f"{policy}.enabled", account)
            elif True not in values:
                yield violation(f"storage account {account.name}: {policy} is not enabled; deleted "
                                f"{'blobs' if policy == POLICIES[0] else 'containers'} cannot be restored.", account)


RULE = StackRule(
    name="azure-storage-account-enable-soft-delete",
    description="Storage accounts must enable blob and container soft delete.",
    severity="medium",
    remediation="Add azure_native.storage.BlobServiceProperties with delete_retention_policy and "
                "container_delete_retention_policy {'enabled': True, 'days': 7..365} (SecureStorageAccount: 14 days).",
    frameworks=CIS_AZURE("3.11") + SOC2("A1.2") + ISO27001("A.8.13"),
    enforcement="mandatory",
    tags=("storage", "backup"),
    resource_types=azure_types(ACCOUNT, BLOB_SERVICE),
    check=check,
)
