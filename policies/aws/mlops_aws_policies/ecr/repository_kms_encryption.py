"""ECR repositories encrypt images with a customer-managed KMS key (default is AES256)."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import key_problem


def check(resource, config):
    configs = resource.props.get("encryptionConfigurations")
    if is_unknown(configs):
        yield cannot_check("encryptionConfigurations")
        return
    if not configs:
        yield "encryptionConfigurations is not set: images are encrypted with AES256, not a customer-managed key."
        return
    for i, item in enumerate(configs):
        kind = item.get("encryptionType", "AES256")
        if is_unknown(kind):
            yield cannot_check(f"encryptionConfigurations[{i}].encryptionType")
        elif kind not in ("KMS", "KMS_DSSE"):
            yield f"encryptionConfigurations[{i}].encryptionType is {kind}, not KMS."
        else:
            problem = key_problem(item.get("kmsKey"), f"encryptionConfigurations[{i}].kmsKey")
            if problem:
                yield f"image encryption {problem}."


RULE = ResourceRule(
    name="aws-ecr-repository-enable-kms-encryption",
    description="ECR repositories must encrypt images with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set encryption_configurations=[{encryption_type: 'KMS', kms_key: <customer-managed key ARN>}] "
                "(this replaces the repository).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("ecr", "encryption"),
    resource_types=("aws:ecr/repository:Repository",),
    check=check,
)
