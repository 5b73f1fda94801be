"""Secrets Manager secrets use a customer-managed KMS key (the default is aws/secretsmanager)."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule

from .._aws import require_key


def check(resource, config):
    yield from require_key(resource, "kmsKeyId", "secret encryption")


RULE = ResourceRule(
    name="aws-secretsmanager-secret-enable-kms-encryption",
    description="Secrets Manager secrets must be encrypted with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set kms_key_id=<customer-managed key ARN> so that the key policy, not only IAM, controls who can "
                "decrypt the secret.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("secretsmanager", "encryption"),
    resource_types=("aws:secretsmanager/secret:Secret",),
    check=check,
)
