"""SNS topics encrypt messages at rest with a customer-managed KMS key."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import require_key


def check(resource, config):
    yield from require_key(resource, "kmsMasterKeyId", "topic encryption")


RULE = ResourceRule(
    name="aws-sns-topic-enable-kms-encryption",
    description="SNS topics must encrypt messages with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set kms_master_key_id=<customer-managed key id or ARN>; the key policy must let the publishing "
                "services (e.g. cloudwatch.amazonaws.com) use it.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("sns", "encryption"),
    resource_types=("aws:sns/topic:Topic",),
    check=check,
)
