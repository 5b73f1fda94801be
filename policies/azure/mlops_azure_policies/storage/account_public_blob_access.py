"""Anonymous (public) read access to blobs must be impossible at the account level."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._azure import azure_types


def check(resource, config):
    value = resource.props.get("allowBlobPublicAccess")
    if is_unknown(value):
        yield cannot_check("allowBlobPublicAccess")
    elif value is not None and truthy(value):
        # Absent is fine: the default interpretation is false since API 2023-01-01.
        yield "allowBlobPublicAccess is true: any container in the account can be made anonymously readable."


RULE = ResourceRule(
    name="azure-storage-account-disallow-public-blob-access",
    description="Storage accounts do not allow anonymous public access to blobs or containers.",
    severity="high",
    remediation="Set allowBlobPublicAccess=False on the storage account (containers then cannot be made public).",
    frameworks=CIS_AZURE("3.17") + SOC2("CC6.1") + ISO27001("A.8.3") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("storage", "public-exposure"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
