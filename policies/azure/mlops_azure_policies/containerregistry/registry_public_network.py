"""Container registries disable public network access and are reached through private endpoints.

Unset means Enabled: the registry's login server answers from the internet, and only credentials
stand between an attacker and the images. Nodes pull over the private endpoint.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_one_of

from .._azure import azure_types

RULE = ResourceRule(
    name="azure-containerregistry-registry-disallow-public-network-access",
    description="Container registries must disable public network access.",
    severity="high",
    remediation="Set publicNetworkAccess='Disabled' (Premium SKU) and add a private endpoint with group id 'registry'.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",
    tags=("acr", "network", "public-access"),
    resource_types=azure_types("azure-native:containerregistry:Registry"),
    check=require_one_of("publicNetworkAccess", ("Disabled",), "the login server answers requests from the internet.",
                         absent="Enabled"),
)
