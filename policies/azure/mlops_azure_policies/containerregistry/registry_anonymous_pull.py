"""Container registries do not serve images to anonymous clients.

Training images bake in code, model-loading logic and sometimes data samples; anonymous pull
lets anyone who can reach the registry endpoint download them.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_false

from .._azure import azure_types


RULE = ResourceRule(
    name="azure-containerregistry-registry-disable-anonymous-pull",
    description="Container registries must disable anonymous pull.",
    severity="high",
    remediation="Set anonymousPullEnabled=False (the default).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.3") + PCI_DSS("7.2.1"),
    enforcement="mandatory",
    tags=("acr", "public-access"),
    resource_types=azure_types("azure-native:containerregistry:Registry"),
    check=require_false("anonymousPullEnabled", "anyone who reaches the registry can pull every image."),
)
