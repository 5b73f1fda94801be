"""Container registries delete untagged manifests after a retention period.

Every rebuilt tag leaves the previous manifest untagged; without retention they pile up (storage
cost) and stay pullable by digest long after their vulnerabilities are known. Advisory: a hygiene
and cost control; retention is a Premium-SKU feature.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, require_one_of

from .._azure import azure_types

RULE = ResourceRule(
    name="azure-containerregistry-registry-enable-retention-policy",
    description="Container registries should enable a retention policy for untagged manifests.",
    severity="low",
    remediation="Set policies={'retentionPolicy': {'status': 'enabled', 'days': 14}} (Premium SKU).",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.10"),
    enforcement="advisory",
    tags=("acr", "lifecycle"),
    resource_types=azure_types("azure-native:containerregistry:Registry"),
    check=require_one_of("policies.retentionPolicy.status", ("enabled",), "untagged manifests are kept forever.",
                         absent="disabled"),
)
