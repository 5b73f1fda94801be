"""Account keys and SAS tokens signed with them must not authorize requests; Entra ID must."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._azure import azure_types


def check(resource, config):
    value = resource.props.get("allowSharedKeyAccess")
    if is_unknown(value):
        yield cannot_check("allowSharedKeyAccess")
    elif value is None:
        yield "allowSharedKeyAccess is not set, which Azure treats as true: account keys grant full access."
    elif truthy(value):
        yield "allowSharedKeyAccess is true: account keys and key-signed SAS tokens grant full access."


RULE = ResourceRule(
    name="azure-storage-account-disable-shared-key-access",
    description="Storage accounts authorize requests with Entra ID only, never with shared account keys.",
    severity="medium",
    remediation="Set allowSharedKeyAccess=False and grant workloads data-plane roles "
                "(e.g. Storage Blob Data Contributor) through their managed identities.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.2.2"),
    enforcement="mandatory",
    tags=("storage", "identity"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
