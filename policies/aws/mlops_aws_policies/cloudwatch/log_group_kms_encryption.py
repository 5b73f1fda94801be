"""CloudWatch log groups encrypt their events with a customer-managed KMS key.

Platform logs carry request paths, SQL statements (RDS) and Kubernetes audit events with object
names; with a CMK the key policy decides who can read them and disabling the key revokes access.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import require_key


def check(resource, config):
    yield from require_key(resource, "kmsKeyId", "the log group")


RULE = ResourceRule(
    name="aws-cloudwatch-loggroup-enable-kms-encryption",
    description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set kms_key_id to a customer-managed key whose policy allows logs.<region>.amazonaws.com "
                "(kms:Encrypt*, kms:Decrypt*, kms:GenerateDataKey*) for this log group's ARN.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1", "10.3.2"),
    tags=("cloudwatch", "encryption", "logging"),
    resource_types=("aws:cloudwatch/logGroup:LogGroup",),
    check=check,
)
