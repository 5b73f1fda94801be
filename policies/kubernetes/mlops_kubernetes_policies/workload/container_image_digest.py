"""Container images are pinned by digest (advisory).

A tag (even an immutable-looking one like ``1.2.3``) can be moved to other content in most
registries; ``image@sha256:...`` runs exactly the bytes that were reviewed and scanned. Advisory:
public charts and operators publish tags, and our ECR/ACR/Artifact Registry repositories make
tags immutable, which closes most of the gap.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        image = container.get("image")
        if is_unknown(image):
            yield cannot_check(f"{label} image")
        elif isinstance(image, str) and "@sha256:" not in image:
            yield f"{label} image {image} is not pinned by digest (@sha256:...)."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-image-digest",
    description="Container images should be pinned by digest.",
    severity="low",
    enforcement="advisory",
    remediation="Reference images as <repository>@sha256:<digest> (keep the tag in a comment or label for humans).",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.19", "A.8.32") + PCI_DSS("6.3.2"),
    tags=("supply-chain",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
