"""ECR image tags cannot be overwritten, so a deployed tag always means the same image."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

# IMMUTABLE_WITH_EXCLUSION keeps every tag immutable except the explicitly listed filters: a
# reviewed exception, accepted here (the filters are visible in the plan).
IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")


def check(resource, config):
    mutability = resource.props.get("imageTagMutability", "MUTABLE")
    if is_unknown(mutability):
        yield cannot_check("imageTagMutability")
    elif mutability not in IMMUTABLE:
        yield f"imageTagMutability is {mutability}: a pushed tag can be silently replaced by another image."


RULE = ResourceRule(
    name="aws-ecr-repository-enable-immutable-tags",
    description="ECR repositories must make image tags immutable.",
    severity="medium",
    enforcement="advisory",
    remediation="Set image_tag_mutability='IMMUTABLE' and publish every build under a unique tag (e.g. the git SHA).",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.9") + PCI_DSS("6.5.1"),
    tags=("ecr", "supply-chain"),
    resource_types=("aws:ecr/repository:Repository",),
    check=check,
)
