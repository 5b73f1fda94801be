"""Storage accounts keep copies in more than one zone or region (ZRS, GRS, GZRS), not only locally (LRS).

LRS keeps three copies in one datacenter: a zone outage makes the artifacts unreadable until it
ends. Advisory: dev stacks use LRS on purpose (cost, data that can be regenerated); prod uses ZRS
and replicates objects to the DR account.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._azure import azure_types

LOCAL_ONLY = ("Standard_LRS", "Premium_LRS")


def check(resource, config):
    sku = get(resource.props, "sku.name")
    if is_unknown(sku):
        yield cannot_check("sku.name")
    elif sku is None or str(sku) in LOCAL_ONLY:
        yield f"sku.name is {sku or 'not set'}: every copy lives in one datacenter."


RULE = ResourceRule(
    name="azure-storage-account-require-zone-or-geo-redundancy",
    description="Storage accounts should replicate across zones or regions (ZRS, GRS, RA-GRS, GZRS, RA-GZRS).",
    severity="low",
    remediation="Set sku={'name': 'Standard_ZRS'} (or Standard_GZRS); prod accounts also replicate objects to the DR account.",
    frameworks=SOC2("A1.2") + ISO27001("A.8.14"),
    enforcement="advisory",
    tags=("storage", "resilience"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=check,
)
