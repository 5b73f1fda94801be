"""Every AWS single-resource rule: hardened passes, each insecure spelling fails, unknowns are advisory."""
import json

import pytest

from mlops_aws_policies.dynamodb import table_cmk_encryption as dynamodb_cmk
from mlops_aws_policies.ecr import repository_immutable_tags as ecr_immutable
from mlops_aws_policies.ecr import repository_kms_encryption as ecr_kms
from mlops_aws_policies.efs import filesystem_kms_encryption as efs_kms
from mlops_aws_policies.eks import cluster_public_endpoint as eks_public
from mlops_aws_policies.eks import cluster_secrets_encryption as eks_secrets
from mlops_aws_policies.elasticache import cache_at_rest_encryption as cache_rest
from mlops_aws_policies.elasticache import cache_transit_encryption as cache_transit
from mlops_aws_policies.rds import database_cmk_encryption as rds_cmk
from mlops_aws_policies.rds import database_iam_authentication as rds_iam
from mlops_aws_policies.rds import database_public_access as rds_public
from mlops_aws_policies.secretsmanager import secret_kms_encryption as secret_kms
from mlops_aws_policies.sns import topic_kms_encryption as sns_kms
from mlops_aws_policies.sqs import queue_kms_encryption as sqs_kms
from tests.policies.cloud_policy_harness import UNKNOWN, check_resource

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0b3f2a55-1c1e-4c8b-9d0a-5f0e8a9d7c11"

# (rule module, type token, props, expected message fragment or None for pass, or "unknown")
CASES = [
    # RDS storage encryption (instance and Aurora cluster)
    (rds_cmk, "aws:rds/instance:Instance", {"engine": "postgres", "storageEncrypted": True, "kmsKeyId": KEY_ARN}, None),
    (rds_cmk, "aws:rds/cluster:Cluster", {"engine": "aurora-postgresql", "storageEncrypted": True, "kmsKeyId": UNKNOWN}, None),
    (rds_cmk, "aws:rds/instance:Instance", {"engine": "postgres"}, "storage is not encrypted"),
    (rds_cmk, "aws:rds/cluster:Cluster", {"engine": "aurora-mysql", "storageEncrypted": False, "kmsKeyId": KEY_ARN}, "not encrypted"),
    (rds_cmk, "aws:rds/instance:Instance", {"engine": "postgres", "storageEncrypted": True}, "no KMS key"),
    (rds_cmk, "aws:rds/instance:Instance", {"storageEncrypted": True, "kmsKeyId": "alias/aws/rds"}, "AWS-managed key"),
    (rds_cmk, "aws:rds/instance:Instance", {"replicateSourceDb": "arn:aws:rds:eu-west-1:1:db:src"}, None),
    (rds_cmk, "aws:rds/instance:Instance", {"storageEncrypted": UNKNOWN}, "unknown"),
    (rds_cmk, "aws:rds/cluster:Cluster", {"engine": "aurora-mysql", "engineMode": "serverless", "kmsKeyId": KEY_ARN}, None),
    (rds_cmk, "aws:rds/cluster:Cluster", {"engine": "aurora-mysql", "engineMode": "serverless"}, "no KMS key"),
    # RDS public access
    (rds_public, "aws:rds/instance:Instance", {"publiclyAccessible": False}, None),
    (rds_public, "aws:rds/instance:Instance", {}, None),
    (rds_public, "aws:rds/clusterInstance:ClusterInstance", {"publiclyAccessible": True}, "publiclyAccessible is true"),
    (rds_public, "aws:rds/instance:Instance", {"publiclyAccessible": UNKNOWN}, "unknown"),
    # RDS IAM authentication
    (rds_iam, "aws:rds/instance:Instance", {"engine": "postgres", "iamDatabaseAuthenticationEnabled": True}, None),
    (rds_iam, "aws:rds/cluster:Cluster", {"engine": "aurora-postgresql"}, "iamDatabaseAuthenticationEnabled is not true"),
    (rds_iam, "aws:rds/instance:Instance", {"engine": "mysql", "iamDatabaseAuthenticationEnabled": False}, "not true"),
    (rds_iam, "aws:rds/instance:Instance", {"engine": "sqlserver-se"}, None),
    (rds_iam, "aws:rds/instance:Instance", {"engine": "postgres", "iamDatabaseAuthenticationEnabled": UNKNOWN}, "unknown"),
    # EKS secrets encryption
    (eks_secrets, "aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}}, None),
    (eks_secrets, "aws:eks/cluster:Cluster", {}, "encryptionConfig is not set"),
    (eks_secrets, "aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": [], "provider": {"keyArn": KEY_ARN}}}, "does not include \"secrets\""),
    (eks_secrets, "aws:eks/cluster:Cluster", {"encryptionConfig": {"resources": ["secrets"], "provider": {}}}, "no KMS key"),
    (eks_secrets, "aws:eks/cluster:Cluster", {"encryptionConfig": UNKNOWN}, "unknown"),
    # EKS public endpoint
    (eks_public, "aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}}, None),
    (eks_public, "aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}, None),
    (eks_public, "aws:eks/cluster:Cluster", {"vpcConfig": {"subnetIds": ["subnet-1"]}}, "default when publicAccessCidrs is unset"),
    (eks_public, "aws:eks/cluster:Cluster", {"vpcConfig": {"publicAccessCidrs": ["10.0.0.0/8", "0.0.0.0/0"]}}, "accepts 0.0.0.0/0"),
    (eks_public, "aws:eks/cluster:Cluster", {"vpcConfig": {"publicAccessCidrs": [UNKNOWN]}}, "unknown"),
    # ECR encryption and immutable tags
    (ecr_kms, "aws:ecr/repository:Repository", {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]}, None),
    (ecr_kms, "aws:ecr/repository:Repository", {}, "AES256"),
    (ecr_kms, "aws:ecr/repository:Repository", {"encryptionConfigurations": [{"encryptionType": "AES256"}]}, "not KMS"),
    (ecr_kms, "aws:ecr/repository:Repository", {"encryptionConfigurations": [{"encryptionType": "KMS"}]}, "no KMS key"),
    (ecr_immutable, "aws:ecr/repository:Repository", {"imageTagMutability": "IMMUTABLE"}, None),
    (ecr_immutable, "aws:ecr/repository:Repository", {}, "MUTABLE"),
    (ecr_immutable, "aws:ecr/repository:Repository", {"imageTagMutability": "MUTABLE_WITH_EXCLUSION"}, "MUTABLE_WITH_EXCLUSION"),
    (ecr_immutable, "aws:ecr/repository:Repository", {"imageTagMutability": UNKNOWN}, "unknown"),
    # DynamoDB
    (dynamodb_cmk, "aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
                                                 "replicas": [{"regionName": "eu-central-1", "kmsKeyArn": UNKNOWN}]}, None),
    (dynamodb_cmk, "aws:dynamodb/table:Table", {}, "AWS-owned key"),
    (dynamodb_cmk, "aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True}}, "no KMS key"),
    (dynamodb_cmk, "aws:dynamodb/table:Table", {"serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY_ARN},
                                                 "replicas": [{"regionName": "eu-central-1"}]}, "replica in eu-central-1"),
    # SNS / SQS / Secrets Manager
    (sns_kms, "aws:sns/topic:Topic", {"kmsMasterKeyId": UNKNOWN}, None),
    (sns_kms, "aws:sns/topic:Topic", {}, "no KMS key"),
    (sns_kms, "aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"}, "AWS-managed key"),
    (sqs_kms, "aws:sqs/queue:Queue", {"kmsMasterKeyId": KEY_ARN}, None),
    (sqs_kms, "aws:sqs/queue:Queue", {"sqsManagedSseEnabled": True}, "no KMS key"),
    (secret_kms, "aws:secretsmanager/secret:Secret", {"kmsKeyId": KEY_ARN}, None),
    (secret_kms, "aws:secretsmanager/secret:Secret", {"name": "db-password"}, "no KMS key"),
    # EFS
    (efs_kms, "aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": KEY_ARN}, None),
    (efs_kms, "aws:efs/fileSystem:FileSystem", {}, "encrypted is not true"),
    (efs_kms, "aws:efs/fileSystem:FileSystem", {"encrypted": True}, "no KMS key"),
    (efs_kms, "aws:efs/fileSystem:FileSystem", {"encrypted": UNKNOWN}, "unknown"),
    # ElastiCache at rest and in transit
    (cache_rest, "aws:elasticache/replicationGroup:ReplicationGroup", {"atRestEncryptionEnabled": True, "kmsKeyId": KEY_ARN}, None),
    (cache_rest, "aws:elasticache/serverlessCache:ServerlessCache", {"engine": "valkey", "kmsKeyId": KEY_ARN}, None),
    (cache_rest, "aws:elasticache/replicationGroup:ReplicationGroup", {"kmsKeyId": KEY_ARN}, "atRestEncryptionEnabled is not true"),
    (cache_rest, "aws:elasticache/serverlessCache:ServerlessCache", {"engine": "redis"}, "no KMS key"),
    (cache_transit, "aws:elasticache/replicationGroup:ReplicationGroup", {"transitEncryptionEnabled": True}, None),
    (cache_transit, "aws:elasticache/cluster:Cluster", {"replicationGroupId": "rg-1"}, None),
    (cache_transit, "aws:elasticache/cluster:Cluster", {"engine": "memcached"}, "transitEncryptionEnabled is not true"),
    (cache_transit, "aws:elasticache/replicationGroup:ReplicationGroup",
     {"transitEncryptionEnabled": True, "transitEncryptionMode": "preferred"}, "plaintext"),
    (cache_transit, "aws:elasticache/replicationGroup:ReplicationGroup", {"transitEncryptionEnabled": UNKNOWN}, "unknown"),
]


@pytest.mark.parametrize("rule_module, type_token, props, expected", CASES,
                         ids=[f"{c[0].RULE.name}-{i}" for i, c in enumerate(CASES)])
def test_resource_rule(rule_module, type_token, props, expected):
    outcome = check_resource(rule_module.RULE, type_token, props, name="subject")
    if expected is None:
        assert outcome.passed, (outcome.messages, outcome.cannot_check)
    elif expected == "unknown":
        assert outcome.messages == []
        assert "cannot check during preview" in outcome.cannot_check
        assert "subject" in outcome.cannot_check
    else:
        assert outcome.cannot_check is None
        assert len(outcome.messages) == 1 and expected in outcome.messages[0], outcome.messages


def test_rules_ignore_other_resource_types():
    outcome = check_resource(sns_kms.RULE, "aws:sqs/queue:Queue", {})
    assert outcome.passed


def test_exclude_for_skips_matching_names_only():
    config = {"excludeFor": ["legacy-*"]}
    assert check_resource(sns_kms.RULE, "aws:sns/topic:Topic", {}, name="legacy-alerts", config=config).passed
    assert not check_resource(sns_kms.RULE, "aws:sns/topic:Topic", {}, name="alerts", config=config).passed


def test_unknown_key_reference_counts_as_customer_managed_but_unknown_flag_does_not():
    # A key created in the same program is unknown during preview: still a customer-managed key.
    assert check_resource(efs_kms.RULE, "aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": UNKNOWN}).passed
    # An unknown boolean decides the outcome: reported as cannot-check, never as a pass.
    outcome = check_resource(efs_kms.RULE, "aws:efs/fileSystem:FileSystem", {"encrypted": UNKNOWN, "kmsKeyId": KEY_ARN})
    assert not outcome.passed and outcome.cannot_check


def test_metadata_reaches_the_policy_object():
    policy = rds_cmk.RULE.policy
    assert policy.enforcement_level.value == "mandatory"
    assert policy.severity.value == "high"
    assert policy.framework.name == "CIS Amazon Web Services Foundations Benchmark"
    assert policy.framework.reference == "2.3.1"
    assert {"cis-aws-foundations-v3.0.0:2.3.1", "soc2:CC6.1", "iso27001-2022:A.8.24", "pci-dss-v4.0:3.5.1"} <= set(policy.tags)
    assert "kms_key_id" in policy.remediation_steps
    assert json.dumps(policy.config_schema.properties["excludeFor"])
