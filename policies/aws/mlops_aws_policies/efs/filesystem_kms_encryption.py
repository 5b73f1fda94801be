"""EFS file systems are encrypted at rest with a customer-managed KMS key."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import require_key


def check(resource, config):
    encrypted = resource.props.get("encrypted")
    if is_unknown(encrypted):
        yield cannot_check("encrypted")
    elif encrypted is not True:
        yield "encrypted is not true: file system data is stored unencrypted."
    else:
        yield from require_key(resource, "kmsKeyId", "file system encryption")


RULE = ResourceRule(
    name="aws-efs-filesystem-enable-kms-encryption",
    description="EFS file systems must be encrypted at rest with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set encrypted=True and kms_key_id=<customer-managed key ARN> (this replaces the file system).",
    frameworks=CIS_AWS("2.4.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("efs", "encryption"),
    resource_types=("aws:efs/fileSystem:FileSystem",),
    check=check,
)
