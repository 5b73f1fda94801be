"""SQS queues encrypt messages with a customer-managed KMS key (not SSE-SQS, not the AWS-managed key)."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import require_key


def check(resource, config):
    yield from require_key(resource, "kmsMasterKeyId", "queue encryption")


RULE = ResourceRule(
    name="aws-sqs-queue-enable-kms-encryption",
    description="SQS queues must encrypt messages with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set kms_master_key_id=<customer-managed key id or ARN> (SSE-SQS and alias/aws/sqs give no key-policy "
                "control).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("sqs", "encryption"),
    resource_types=("aws:sqs/queue:Queue",),
    check=check,
)
