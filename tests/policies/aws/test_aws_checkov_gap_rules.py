"""Rules written for the Checkov coverage gaps (issue 13), AWS: each passes the platform's hardened
props (as the components render them) and fails the insecure spelling, through the public pulumi_policy API."""
import pytest

from mlops_aws_policies.cloudwatch import log_group_kms_encryption as log_kms
from mlops_aws_policies.cloudwatch import metric_alarm_actions as alarm_actions
from mlops_aws_policies.dynamodb import table_point_in_time_recovery as dynamodb_pitr
from mlops_aws_policies.ec2 import launchtemplate_require_imdsv2 as imdsv2
from mlops_aws_policies.ec2 import routetable_nat_default_route as nat_route
from mlops_aws_policies.ec2 import securitygroup_description as sg_description
from mlops_aws_policies.ec2 import securitygroup_open_ingress as sg_open
from mlops_aws_policies.ec2 import subnet_public_ip_on_launch as subnet_public_ip
from mlops_aws_policies.eks import cluster_control_plane_logging as eks_logging
from mlops_aws_policies.eks import nodegroup_remote_access as eks_ssh
from mlops_aws_policies.rds import database_auto_minor_upgrade as rds_minor
from mlops_aws_policies.rds import database_backup_retention as rds_backup
from mlops_aws_policies.rds import database_copy_tags_to_snapshot as rds_copy_tags
from mlops_aws_policies.rds import database_deletion_protection as rds_deletion
from mlops_aws_policies.rds import database_log_exports as rds_logs
from mlops_aws_policies.rds import database_modern_ca as rds_ca
from mlops_aws_policies.rds import database_multi_az as rds_multi_az
from mlops_aws_policies.rds import database_performance_insights as rds_pi
from mlops_aws_policies.rds import database_performance_insights_cmk as rds_pi_cmk
from tests.policies.cloud_policy_harness import UNKNOWN, assert_hardened_passes_and_variant_fails, case_ids, check_resource

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/43e2825f-d0e9-437c-847f-ecf298f04501"
INSTANCE = "aws:rds/instance:Instance"
# The tracking database as components/tracking/aws.py renders it for prod.
TRACKING_DB = {
    "engine": "postgres", "engineVersion": "16", "backupRetentionPeriod": 14, "multiAz": True, "deletionProtection": True,
    "autoMinorVersionUpgrade": True, "caCertIdentifier": "rds-ca-rsa2048-g1", "copyTagsToSnapshot": True,
    "enabledCloudwatchLogsExports": ["postgresql", "upgrade"], "performanceInsightsEnabled": True,
    "performanceInsightsKmsKeyId": KEY_ARN, "storageEncrypted": True, "kmsKeyId": KEY_ARN,
}
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
ENDPOINTS_SG = {"description": "HTTPS from inside the VPC to interface endpoints", "egress": [],
                "ingress": [{"cidrBlocks": ["10.40.0.0/16"], "description": "HTTPS from the VPC", "fromPort": 443,
                             "protocol": "tcp", "toPort": 443}]}
DB_INGRESS = {"description": "PostgreSQL from cluster nodes and pods", "fromPort": 5432, "ipProtocol": "tcp",
              "referencedSecurityGroupId": "sg-15d9cab22fa4b92cf", "securityGroupId": "sg-7e17ea79990af1ce9", "toPort": 5432}
LAUNCH_TEMPLATE = {"metadataOptions": {"httpEndpoint": "enabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"}}
EKS_CLUSTER = {"enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]}
ALARM = {"alarmActions": ["arn:aws:sns:us-east-1:123456789012:mlops-prod-alerts"], "metricName": "CPUUtilization"}

# (rule module, type token, hardened props, changes that make it insecure, expected message fragment)
CASES = [
    (rds_logs, INSTANCE, TRACKING_DB, {"enabledCloudwatchLogsExports": ...}, "enabledCloudwatchLogsExports is empty"),
    (rds_logs, INSTANCE, TRACKING_DB, {"enabledCloudwatchLogsExports": ["upgrade"]}, "lacks postgresql"),
    (rds_backup, INSTANCE, TRACKING_DB, {"backupRetentionPeriod": 0}, "backupRetentionPeriod is 0"),
    (rds_backup, INSTANCE, TRACKING_DB, {"backupRetentionPeriod": ...}, "backupRetentionPeriod is 1"),
    (rds_multi_az, INSTANCE, TRACKING_DB, {"multiAz": False}, "multiAz is False"),
    (rds_ca, INSTANCE, TRACKING_DB, {"caCertIdentifier": "rds-ca-2019"}, "'rds-ca-2019'"),
    (rds_ca, INSTANCE, TRACKING_DB, {"caCertIdentifier": ...}, "caCertIdentifier is not set"),
    (rds_minor, INSTANCE, TRACKING_DB, {"autoMinorVersionUpgrade": False}, "security fixes"),
    (rds_deletion, INSTANCE, TRACKING_DB, {"deletionProtection": ...}, "deletionProtection is not set"),
    (rds_pi, INSTANCE, TRACKING_DB, {"performanceInsightsEnabled": False}, "performanceInsightsEnabled is False"),
    (rds_pi_cmk, INSTANCE, TRACKING_DB, {"performanceInsightsKmsKeyId": ...}, "no KMS key"),
    (rds_pi_cmk, INSTANCE, TRACKING_DB, {"performanceInsightsKmsKeyId": "alias/aws/rds"}, "AWS-managed key"),
    (rds_copy_tags, INSTANCE, TRACKING_DB, {"copyTagsToSnapshot": False}, "without owner and environment tags"),
    (sg_open, SG, ENDPOINTS_SG, {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 22, "toPort": 22, "protocol": "tcp"}]},
     "0.0.0.0/0 to port 22 (SSH)"),
    (sg_open, SG, ENDPOINTS_SG, {"ingress": [{"ipv6CidrBlocks": ["::/0"], "fromPort": 3000, "toPort": 4000, "protocol": "tcp"}]},
     "::/0 to port 3389 (RDP)"),
    (sg_open, SG, ENDPOINTS_SG, {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 0, "toPort": 0, "protocol": "-1"}]},
     "every port and protocol"),
    (sg_open, INGRESS_RULE, DB_INGRESS, {"cidrIpv4": "0.0.0.0/0", "referencedSecurityGroupId": ..., "fromPort": 80,
                                         "toPort": 80}, "port 80 (HTTP)"),
    (sg_open, GROUP_RULE, {"type": "ingress", "cidrBlocks": ["10.0.0.0/8"], "protocol": "tcp", "fromPort": 0, "toPort": 65535},
     {"cidrBlocks": ["0.0.0.0/0"]}, "every port"),
    (sg_description, SG, ENDPOINTS_SG, {"description": "Managed by Pulumi"}, "description is missing"),
    (sg_description, INGRESS_RULE, DB_INGRESS, {"description": ...}, "description is missing"),
    (subnet_public_ip, "aws:ec2/subnet:Subnet", {"cidrBlock": "10.50.224.0/22", "mapPublicIpOnLaunch": False},
     {"mapPublicIpOnLaunch": True}, "mapPublicIpOnLaunch is true"),
    (imdsv2, "aws:ec2/launchTemplate:LaunchTemplate", LAUNCH_TEMPLATE, {"metadataOptions__httpTokens": "optional"},
     "IMDSv1"),
    (imdsv2, "aws:ec2/launchTemplate:LaunchTemplate", LAUNCH_TEMPLATE, {"metadataOptions": ...}, "httpTokens is not set"),
    (imdsv2, "aws:ec2/launchTemplate:LaunchTemplate", LAUNCH_TEMPLATE, {"metadataOptions__httpPutResponseHopLimit": 2},
     "httpPutResponseHopLimit is 2"),
    (nat_route, "aws:ec2/routeTable:RouteTable", {"routes": [{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}]},
     {"routes": [{"cidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1"}]}, "NAT instance"),
    (eks_logging, "aws:eks/cluster:Cluster", EKS_CLUSTER, {"enabledClusterLogTypes": ["api"]}, "lacks audit, authenticator"),
    (eks_ssh, "aws:eks/nodeGroup:NodeGroup", {"clusterName": "mlops-prod"}, {"remoteAccess": {"ec2SshKey": "ops"}},
     "port 22 on every node"),
    (log_kms, "aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": KEY_ARN, "retentionInDays": 365}, {"kmsKeyId": ...},
     "no KMS key"),
    (alarm_actions, "aws:cloudwatch/metricAlarm:MetricAlarm", ALARM, {"actionsEnabled": False}, "actionsEnabled is false"),
    (alarm_actions, "aws:cloudwatch/metricAlarm:MetricAlarm", ALARM, {"alarmActions": []}, "alarmActions is empty"),
    (dynamodb_pitr, "aws:dynamodb/table:Table", {"pointInTimeRecovery": {"enabled": True}},
     {"pointInTimeRecovery__enabled": False}, "pointInTimeRecovery.enabled is False"),
]


@pytest.mark.parametrize("module, resource_type, base, changes, expected", CASES, ids=case_ids(CASES))
def test_hardened_passes_insecure_fails(module, resource_type, base, changes, expected):
    assert_hardened_passes_and_variant_fails(module, resource_type, base, changes, expected)


@pytest.mark.parametrize("module, resource_type, props", [
    (rds_backup, INSTANCE, {"backupRetentionPeriod": UNKNOWN}),
    (sg_open, SG, {"ingress": [{"cidrBlocks": [UNKNOWN], "fromPort": 22, "toPort": 22, "protocol": "tcp"}]}),
    (imdsv2, "aws:ec2/launchTemplate:LaunchTemplate", {"metadataOptions": {"httpTokens": UNKNOWN}}),
    (rds_multi_az, INSTANCE, {"multiAz": UNKNOWN}),
    (sg_open, SG, {"ingress": [UNKNOWN]}),  # one block computed from another resource's outputs
    (nat_route, "aws:ec2/routeTable:RouteTable", {"routes": [UNKNOWN]}),
])
def test_unknown_deciding_value_is_cannot_check(module, resource_type, props):
    outcome = check_resource(module.RULE, resource_type, props)
    assert outcome.messages == [] and "cannot check during preview" in outcome.cannot_check


@pytest.mark.parametrize("module, props", [
    (rds_multi_az, {"replicateSourceDb": "arn:aws:rds:us-east-1:123456789012:db:mlops-prod-tracking", "multiAz": False}),
    (rds_backup, {"replicateSourceDb": "arn:aws:rds:us-east-1:123456789012:db:mlops-prod-tracking"}),
    (rds_pi_cmk, {"performanceInsightsEnabled": False}),
])
def test_settings_that_follow_elsewhere_pass(module, props):
    # The DR read replica is single-AZ and backed up by its source; PI's key matters only when PI is on.
    assert check_resource(module.RULE, INSTANCE, props).passed


@pytest.mark.parametrize("ingress", [
    {"cidrBlocks": ["0.0.0.0/0"], "fromPort": 443, "toPort": 443, "protocol": "tcp"},   # HTTPS is not an admin port
    {"cidrBlocks": ["10.0.0.0/8"], "fromPort": 22, "toPort": 22, "protocol": "tcp"},   # SSH from inside only
    {"cidrBlocks": ["0.0.0.0/0"], "fromPort": -1, "toPort": -1, "protocol": "icmp"},   # ping has no ports
])
def test_security_group_ingress_that_is_not_open_admin_access_passes(ingress):
    assert check_resource(sg_open.RULE, SG, {"description": "x", "ingress": [ingress]}).passed


def test_egress_rule_is_not_ingress():
    rule = {"type": "egress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "-1", "fromPort": 0, "toPort": 0}
    assert check_resource(sg_open.RULE, GROUP_RULE, rule).passed


def test_endpoint_disabled_needs_no_imdsv2():
    assert check_resource(imdsv2.RULE, "aws:ec2/launchTemplate:LaunchTemplate",
                          {"metadataOptions": {"httpEndpoint": "disabled"}}).passed


def test_node_group_ssh_limited_to_a_bastion_group_passes():
    props = {"remoteAccess": {"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-bastion"]}}
    assert check_resource(eks_ssh.RULE, "aws:eks/nodeGroup:NodeGroup", props).passed
