"""Storage accounts must refuse TLS 1.0/1.1 clients."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import azure_types

ACCEPTED = {"TLS1_2", "TLS1_3"}


def check(resource, config):
    value = resource.props.get("minimumTlsVersion")
    if is_unknown(value):
        yield cannot_check("minimumTlsVersion")
    elif value is None:
        yield "minimumTlsVersion is not set: Azure then accepts TLS 1.0 and 1.1."
    elif str(value).upper() not in ACCEPTED:
        yield f"minimumTlsVersion is {value}: clients can still negotiate a TLS version older than 1.2."


RULE = ResourceRule(
    name="azure-storage-account-require-tls12",
    description="Storage accounts require TLS 1.2 or newer from clients.",
    severity="medium",
    remediation="Set minimumTlsVersion='TLS1_2' on the storage account.",
    frameworks=CIS_AZURE("3.15") + SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    enforcement="mandatory",
    tags=("storage", "encryption-in-transit"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
