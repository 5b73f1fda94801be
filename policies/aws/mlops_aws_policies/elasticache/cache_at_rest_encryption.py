"""ElastiCache (Redis/Valkey) data is encrypted at rest with a customer-managed KMS key."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import require_key

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SERVERLESS = "aws:elasticache/serverlessCache:ServerlessCache"


def check(resource, config):
    if resource.type == REPLICATION_GROUP:
        enabled = resource.props.get("atRestEncryptionEnabled")
        if is_unknown(enabled):
            yield cannot_check("atRestEncryptionEnabled")
            return
        if enabled is not True:
            yield "atRestEncryptionEnabled is not true."
            return
    # Serverless caches are always encrypted at rest; only the key is a choice.
    yield from require_key(resource, "kmsKeyId", "at-rest encryption")


RULE = ResourceRule(
    name="aws-elasticache-cache-enable-kms-encryption",
    description="ElastiCache replication groups and serverless caches must encrypt data at rest with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set at_rest_encryption_enabled=True and kms_key_id=<customer-managed key ARN> on the replication "
                "group (kms_key_id on a serverless cache).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("elasticache", "encryption"),
    resource_types=(REPLICATION_GROUP, SERVERLESS),
    check=check,
)
