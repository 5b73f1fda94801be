"""When Performance Insights is on, its data (SQL text and wait events) is encrypted with a customer-managed key.

Without performanceInsightsKmsKeyId RDS uses the AWS-managed key aws/rds, which the account cannot
restrict by key policy or disable; the statements it records include literal values.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._aws import key_problem


def check(resource, config):
    enabled = resource.props.get("performanceInsightsEnabled")
    if is_unknown(enabled):
        yield cannot_check("performanceInsightsEnabled")
        return
    if enabled is not True:
        return
    problem = key_problem(resource.props.get("performanceInsightsKmsKeyId"),
                          "performanceInsightsKmsKeyId to a customer-managed KMS key")
    if problem:
        yield f"Performance Insights {problem}."


RULE = ResourceRule(
    name="aws-rds-database-performance-insights-cmk-encryption",
    description="RDS Performance Insights data must be encrypted with a customer-managed KMS key.",
    severity="medium",
    enforcement="mandatory",
    remediation="Set performance_insights_kms_key_id to the database's customer-managed key (it cannot change later).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("rds", "encryption"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=check,
)
