"""The AWS part of the end-to-end policy program for the rules written for Checkov's gaps (issue 13):
one hardened and one insecure resource per rule, previewed with the real pulumi-aws SDK (see
tests/policies/aws/test_policy_program.py, which runs it with the rest of the program and checks the exact
findings)."""
import pulumi_aws as aws

HARDENED_DB = dict(
    backup_retention_period=7, multi_az=True, deletion_protection=True, ca_cert_identifier="rds-ca-rsa2048-g1",
    copy_tags_to_snapshot=True, enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
    performance_insights_enabled=True, auto_minor_version_upgrade=True)
ALL_CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
IMDSV2 = {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}


def hardened_db(key) -> dict:
    """What the tracking database sets beyond encryption and network: every gap rule passes it."""
    group = aws.rds.ParameterGroup("tls-params", name="mlops-tracking", family="postgres16",
                                   parameters=[{"name": "rds.force_ssl", "value": "1", "apply_method": "pending-reboot"}])
    return {**HARDENED_DB, "performance_insights_kms_key_id": key.arn, "parameter_group_name": group.name}


def gap_program(key, db: dict) -> None:
    for rule, change in (("logs", {"enabled_cloudwatch_logs_exports": []}), ("backup", {"backup_retention_period": 1}),
                         ("multiaz", {"multi_az": False}), ("ca", {"ca_cert_identifier": "rds-ca-2019"}),
                         ("minor", {"auto_minor_version_upgrade": False}), ("deletion", {"deletion_protection": False}),
                         ("pi", {"performance_insights_enabled": False, "performance_insights_kms_key_id": None}),
                         ("pi-cmk", {"performance_insights_kms_key_id": None}), ("copytags", {"copy_tags_to_snapshot": False})):
        aws.rds.Instance(f"bad-db-{rule}", **{**db, **change})
    plain = aws.rds.ParameterGroup("plain-params", name="mlops-plain", family="postgres16",
                                   parameters=[{"name": "log_min_duration_statement", "value": "1000"}])
    aws.rds.Instance("bad-db-ssl", **{**db, "parameter_group_name": plain.name})

    vpc = aws.ec2.Vpc("good-vpc", cidr_block="10.50.0.0/16")
    role_arn = "arn:aws:iam::123456789012:role/flow-logs"
    for name, flow, closed in (("good-vpc", True, True), ("bad-vpc-flow", False, True), ("bad-vpc-default-sg", True, False)):
        network = vpc if name == "good-vpc" else aws.ec2.Vpc(name, cidr_block="10.60.0.0/16")
        if flow:
            aws.ec2.FlowLog(f"{name}-flow-log", vpc_id=network.id, traffic_type="ALL", iam_role_arn=role_arn,
                            log_destination="arn:aws:logs:eu-west-1:123456789012:log-group:/mlops/p/vpc-flow-logs")
        if closed:
            aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=network.id, ingress=[], egress=[])
    aws.ec2.Subnet("good-subnet", vpc_id=vpc.id, cidr_block="10.50.0.0/20", map_public_ip_on_launch=False)
    aws.ec2.Subnet("bad-subnet", vpc_id=vpc.id, cidr_block="10.50.16.0/20", map_public_ip_on_launch=True)
    aws.ec2.RouteTable("good-routes", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": "nat-0abc"}])
    aws.ec2.RouteTable("bad-routes", vpc_id=vpc.id, routes=[{"cidr_block": "0.0.0.0/0", "network_interface_id": "eni-0abc"}])

    https = {"description": "HTTPS from the VPC", "protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["10.50.0.0/16"]}
    groups = [aws.ec2.SecurityGroup("good-sg", vpc_id=vpc.id, description="endpoints: HTTPS from the VPC", ingress=[https]),
              aws.ec2.SecurityGroup("bad-sg-open", vpc_id=vpc.id, description="bastion", ingress=[
                  {**https, "description": "SSH from anywhere", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]),
              aws.ec2.SecurityGroup("bad-sg-description", vpc_id=vpc.id, description="", ingress=[https])]
    aws.ec2.SecurityGroup("bad-sg-orphan", vpc_id=vpc.id, description="left over from a refactor", ingress=[https])
    disks = [{"device_name": "/dev/xvda", "ebs": {"encrypted": "true", "kms_key_id": key.arn}}]
    aws.ec2.LaunchTemplate("good-imds-lt", metadata_options=IMDSV2, block_device_mappings=disks,
                           vpc_security_group_ids=[g.id for g in groups])
    aws.ec2.LaunchTemplate("bad-imds-lt", metadata_options={**IMDSV2, "http_put_response_hop_limit": 2},
                           block_device_mappings=disks)

    nodes = dict(cluster_name="mlops", node_role_arn="arn:aws:iam::123456789012:role/nodes", subnet_ids=["subnet-1"],
                 scaling_config={"desired_size": 1, "max_size": 2, "min_size": 1})
    aws.eks.NodeGroup("good-nodes", **nodes)
    aws.eks.NodeGroup("bad-nodes-ssh", **nodes, remote_access={"ec2_ssh_key": "ops"})

    aws.cloudwatch.LogGroup("bad-plain-logs", name="/mlops/p/plain", retention_in_days=365)
    alarm = dict(comparison_operator="GreaterThanThreshold", evaluation_periods=1, metric_name="CPUUtilization",
                 namespace="AWS/RDS", period=300, statistic="Average", threshold=80)
    aws.cloudwatch.MetricAlarm("good-alarm", alarm_actions=["arn:aws:sns:eu-west-1:123456789012:alerts"], **alarm)
    aws.cloudwatch.MetricAlarm("bad-alarm", **alarm)
    aws.kms.Key("bad-nopolicy-key", enable_key_rotation=True)


GAP_EXPECTED = {
    ("aws-rds-database-enable-log-exports", "bad-db-logs"),
    ("aws-rds-database-require-backup-retention", "bad-db-backup"),
    ("aws-rds-database-enable-multi-az", "bad-db-multiaz"),
    ("aws-rds-database-require-current-ca", "bad-db-ca"),
    ("aws-rds-database-enable-auto-minor-upgrade", "bad-db-minor"),
    ("aws-rds-database-enable-deletion-protection", "bad-db-deletion"),
    ("aws-rds-database-enable-performance-insights", "bad-db-pi"),
    ("aws-rds-database-performance-insights-cmk-encryption", "bad-db-pi-cmk"),
    ("aws-rds-database-enable-copy-tags-to-snapshot", "bad-db-copytags"),
    ("aws-rds-database-require-tls-connections", "bad-db-ssl"),
    ("aws-ec2-vpc-enable-flow-logs", "bad-vpc-flow"),
    ("aws-ec2-vpc-restrict-default-security-group", "bad-vpc-default-sg"),
    ("aws-ec2-subnet-disallow-public-ip-on-launch", "bad-subnet"),
    ("aws-ec2-routetable-require-nat-gateway-default-route", "bad-routes"),
    ("aws-ec2-securitygroup-disallow-open-admin-ingress", "bad-sg-open"),
    ("aws-ec2-securitygroup-require-description", "bad-sg-description"),
    ("aws-ec2-securitygroup-require-attachment", "bad-sg-orphan"),
    ("aws-ec2-launchtemplate-require-imdsv2", "bad-imds-lt"),
    ("aws-ec2-launchtemplate-require-imdsv2", "bad-lt"),
    ("aws-eks-nodegroup-disallow-open-ssh", "bad-nodes-ssh"),
    ("aws-eks-cluster-enable-control-plane-logging", "bad-eks-logging"),
    ("aws-cloudwatch-loggroup-enable-kms-encryption", "bad-plain-logs"),
    ("aws-cloudwatch-metricalarm-enable-actions", "bad-alarm"),
    ("aws-dynamodb-table-enable-point-in-time-recovery", "bad-table-pitr"),
    ("aws-kms-key-require-key-policy", "bad-nopolicy-key"),
    ("aws-s3-bucket-enable-versioning", "bad-versioning-bucket"),
    ("aws-s3-bucket-require-lifecycle-abort-uploads", "bad-lifecycle-bucket"),
    ("aws-s3-bucket-disable-acls", "bad-acl-bucket"),
}
