"""Storage accounts must refuse plain-HTTP requests."""
from mlops_policy import CIS_AZURE, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._azure import azure_types


def check(resource, config):
    value = resource.props.get("enableHttpsTrafficOnly")
    if is_unknown(value):
        yield cannot_check("enableHttpsTrafficOnly")
    elif value is False or (isinstance(value, str) and value.lower() == "false"):
        # Absent is fine: the API default has been true since 2019-04-01.
        yield "enableHttpsTrafficOnly is false: the account accepts unencrypted HTTP requests."


RULE = ResourceRule(
    name="azure-storage-account-require-https-only",
    description="Storage accounts accept HTTPS requests only (secure transfer required).",
    severity="high",
    remediation="Remove enableHttpsTrafficOnly=False (the default is true) or set it to True.",
    frameworks=CIS_AZURE("3.1") + SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    enforcement="mandatory",
    tags=("storage", "encryption-in-transit"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
