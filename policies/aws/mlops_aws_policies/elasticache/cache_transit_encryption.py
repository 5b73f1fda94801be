"""ElastiCache clients must connect over TLS.

Replication groups and standalone cache clusters set ``transitEncryptionEnabled``; mode
``preferred`` still accepts plaintext clients (a migration state), so it does not count.
Serverless caches always require TLS. A cluster that joins a replication group inherits it.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CLUSTER = "aws:elasticache/cluster:Cluster"


def check(resource, config):
    props = resource.props
    if resource.type == CLUSTER and props.get("replicationGroupId") not in (None, ""):
        return
    enabled = props.get("transitEncryptionEnabled")
    if is_unknown(enabled):
        yield cannot_check("transitEncryptionEnabled")
        return
    if enabled is not True:
        yield "transitEncryptionEnabled is not true: clients can connect without TLS."
        return
    mode = props.get("transitEncryptionMode")
    if is_unknown(mode):
        yield cannot_check("transitEncryptionMode")
    elif mode == "preferred":
        yield "transitEncryptionMode is \"preferred\": plaintext connections are still accepted; use \"required\"."


RULE = ResourceRule(
    name="aws-elasticache-cache-enable-transit-encryption",
    description="ElastiCache replication groups and clusters must require TLS for client connections.",
    severity="high",
    enforcement="mandatory",
    remediation="Set transit_encryption_enabled=True (and transit_encryption_mode='required' if you set a mode); "
                "clients must connect with TLS.",
    frameworks=SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    tags=("elasticache", "encryption-in-transit"),
    resource_types=(REPLICATION_GROUP, CLUSTER),
    check=check,
)
