"""DynamoDB tables (and their global-table replicas) use a customer-managed KMS key."""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import key_problem


def check(resource, config):
    sse = resource.props.get("serverSideEncryption")
    if is_unknown(sse):
        yield cannot_check("serverSideEncryption")
        return
    enabled = (sse or {}).get("enabled")
    if is_unknown(enabled):
        yield cannot_check("serverSideEncryption.enabled")
        return
    if enabled is not True:
        yield "serverSideEncryption.enabled is not true: the table uses the AWS-owned key."
        return
    problem = key_problem(sse.get("kmsKeyArn"), "serverSideEncryption.kmsKeyArn")
    if problem:
        yield f"table encryption {problem}."
    replicas = resource.props.get("replicas") or []
    if is_unknown(replicas):
        yield cannot_check("replicas")
        return
    for i, replica in enumerate(replicas):
        region = replica.get("regionName", f"#{i}")
        problem = key_problem(replica.get("kmsKeyArn"), f"replicas[{i}].kmsKeyArn (a key in {region})")
        if problem:
            yield f"replica in {region}: {problem}."


RULE = ResourceRule(
    name="aws-dynamodb-table-enable-cmk-encryption",
    description="DynamoDB tables and their replicas must be encrypted with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set server_side_encryption={enabled: True, kms_key_arn: <key ARN>} and kms_key_arn on every "
                "replica (a key in the replica's region).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("dynamodb", "encryption"),
    resource_types=("aws:dynamodb/table:Table",),
    check=check,
)
