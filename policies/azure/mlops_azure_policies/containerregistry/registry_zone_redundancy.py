"""Container registries are zone redundant, so a zone outage does not stop image pulls.

Without images no pod starts: a registry in one zone is a single point of failure for every
deployment and every spot node replacement. Advisory: dev registries are not zone redundant
(zone_redundant follows mlops:environment prod).
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, require_one_of

from .._azure import azure_types

RULE = ResourceRule(
    name="azure-containerregistry-registry-enable-zone-redundancy",
    description="Container registries should be zone redundant (Premium SKU).",
    severity="low",
    remediation="Set zoneRedundancy='Enabled' at creation (Premium SKU; cannot be changed later).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.14"),
    enforcement="advisory",
    tags=("acr", "resilience"),
    resource_types=azure_types("azure-native:containerregistry:Registry"),
    check=require_one_of("zoneRedundancy", ("Enabled",), "a zone outage stops image pulls.", absent="Disabled"),
)
