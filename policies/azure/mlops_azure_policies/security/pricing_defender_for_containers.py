"""A stack with a container registry turns on Microsoft Defender for Containers, which scans its images.

ACR has no scan-on-push switch of its own: image vulnerability assessment is the ``Containers`` plan of
Defender for Cloud (Checkov CKV_AZURE_163), set per subscription through ``security.Pricing``. Without
it, images with known CVEs are pulled into the cluster unnoticed. Passes when the stack sets the plan to
Standard without turning its ``ContainerRegistriesVulnerabilityAssessments`` extension off; reported on
each registry, so a stack whose subscription's plans are managed centrally waives it per registry with
the reason (mlops:waivers). Stack-level.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, violation

from .._azure import azure_types, lower, of_types

REGISTRY = "azure-native:containerregistry:Registry"
PRICING = "azure-native:security:Pricing"
SCANNING = "containerregistriesvulnerabilityassessments"


def _scans(pricing) -> object:
    """True / False for a Containers plan that scans images, None when a deciding value is unknown."""
    props = pricing.props
    if any(is_unknown(props.get(k)) for k in ("pricingName", "pricingTier", "extensions")):
        return None
    if lower(props.get("pricingName")) != "containers" or lower(props.get("pricingTier")) != "standard":
        return False
    for extension in props.get("extensions") or []:
        if is_unknown(extension):
            return None
        if lower((extension or {}).get("name")) == SCANNING:
            enabled = (extension or {}).get("isEnabled")
            return None if is_unknown(enabled) else lower(str(enabled)) == "true"
    # Not listed: the plan's default at Standard (the portal enables registry assessment with the plan; what a bare
    # API PUT does is not visible offline, which is why the platform lists every extension).
    return True


def check(stack, config):
    registries = of_types(stack.resources, azure_types(REGISTRY))
    if not registries:
        return
    verdicts = [_scans(p) for p in of_types(stack.resources, azure_types(PRICING))]
    if True in verdicts:
        return
    for registry in registries:
        if None in verdicts:
            yield cannot_check("security.Pricing Containers", registry)
        else:
            yield violation(f"registry {registry.name}: no Defender for Containers plan (security.Pricing 'Containers' at "
                            "Standard with ContainerRegistriesVulnerabilityAssessments) scans its images for known "
                            "vulnerabilities.", registry)


RULE = StackRule(
    name="azure-security-pricing-enable-defender-for-containers",
    description="Stacks with a container registry must enable Defender for Containers with registry vulnerability "
                "assessment (image scanning). Stack-level.",
    severity="medium",
    remediation="Keep mlops:azure.defenderForContainers on (security.Pricing 'Containers', Standard, "
                "ContainerRegistriesVulnerabilityAssessments True); where the subscription's plans are owned centrally, "
                "waive this rule per registry in mlops:waivers with reason, owner and expiry.",
    frameworks=SOC2("CC7.1") + ISO27001("A.8.8") + PCI_DSS("6.3.1"),
    enforcement="mandatory",
    tags=("registry", "vulnerability-management"),
    resource_types=azure_types(REGISTRY, PRICING),
    check=check,
)
