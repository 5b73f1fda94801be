"""AWS monitoring: KMS-encrypted SNS topic(s), CloudWatch alarms and dashboard, an AWS Budget.

Every signal here exists without installing an agent:
- RDS publishes CPUUtilization, FreeStorageSpace, DatabaseConnections and (on the replica, in the
  DR region) ReplicaLag;
- S3 Replication Time Control publishes ReplicationLatency / OperationsFailedReplication per rule
  in the source region;
- SQS publishes queue depth and the age of the oldest message;
- EC2 aggregates StatusCheckFailed by Auto Scaling group (the system node group's ASG);
- EKS (1.28+) vends control-plane metrics for free in AWS/EKS, among them the number of pods the
  scheduler cannot place (scheduler_pending_pods_UNSCHEDULABLE).

The topic policy lets only CloudWatch alarms, AWS Budgets and EventBridge of this account (plus
the in-cluster Alertmanager's role, when given) publish, and refuses publishing without TLS.
Email subscriptions must be confirmed by each recipient (SNS sends the confirmation mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.k8s import ALERTMANAGER_SERVICE_ACCOUNT, MONITORING_NAMESPACE
from components.monitoring import MonitoringArgs
from components.aws_account import arn_part
from components.aws_iam import kms_via_service
from components.cluster.aws import IrsaRoleFactory
from components.documents import json_document

GIB = 1024 ** 3
# RDS for PostgreSQL default: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000).
POSTGRES_BYTES_PER_CONNECTION = 9531392
FALLBACK_CONNECTION_ALARM = 100
_BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
_GIB_PER_VCPU = {"m": 4, "r": 8, "x": 16}
SERVICE_PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com")


def instance_memory_gib(instance_class: str) -> Optional[float]:
    """Memory of common RDS classes (db.t*, db.m*, db.r*, db.x*); None when not derivable."""
    match = re.fullmatch(r"db\.([a-z])(\d+)[a-z-]*\.(\w+)", instance_class)
    if not match:
        return None
    family, _, size = match.groups()
    if family == "t":
        return _BURSTABLE_GIB.get(size)
    if family not in _GIB_PER_VCPU:
        return None
    vcpus = {"large": 2, "xlarge": 4}.get(size)
    sized = re.fullmatch(r"(\d+)xlarge", size)
    if sized:
        vcpus = 4 * int(sized.group(1))
    return None if vcpus is None else vcpus * _GIB_PER_VCPU[family]


def db_connection_alarm_threshold(instance_class: str, ratio: float) -> int:
    memory = instance_memory_gib(instance_class)
    if memory is None:
        return FALLBACK_CONNECTION_ALARM
    return int(ratio * min(memory * GIB // POSTGRES_BYTES_PER_CONNECTION, 5000))


@dataclass(frozen=True)
class ReplicationRule:
    """One S3 replication rule to watch (from the DR component)."""

    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str


@dataclass(frozen=True)
class DrMonitoringInputs:
    """What the DR side exposes for alarms: the DR provider/region and what replicates."""

    provider: aws.Provider
    region: str
    notifications_key_arn: pulumi.Input[str]  # the DR-region twin of the notifications key
    db_replica_id: pulumi.Input[str]
    replication_rules: Sequence[ReplicationRule] = ()


@dataclass(frozen=True)
class AwsMonitoringInputs:
    """AWS-only inputs: the key, and the names of what is watched."""

    region: str
    notifications_key_arn: pulumi.Input[str]
    db_instance_id: pulumi.Input[str]
    db_instance_class: str
    db_allocated_storage_gb: int
    interruption_queue_name: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    system_node_group_asg_name: pulumi.Input[str]
    online_table_names: Sequence[pulumi.Input[str]] = ()
    irsa_role: Optional[IrsaRoleFactory] = None  # for the in-cluster Alertmanager
    dr: Optional[DrMonitoringInputs] = None


@dataclass
class _Alarm:
    """One alarm definition (kept as data so the dashboard and the alarms stay in step)."""

    key: str
    description: str
    namespace: str
    metric: str
    dimensions: dict
    statistic: str
    comparison: str
    threshold: float
    period: int = 300
    evaluation_periods: int = 3
    missing: str = "notBreaching"
    region: Optional[str] = None
    extra: dict = field(default_factory=dict)


class Monitoring(pulumi.ComponentResource):
    """Alert topic(s), alarms, dashboard and budget for one environment (see components.monitoring)."""

    def __init__(self, name: str, args: MonitoringArgs, aws_inputs: AwsMonitoringInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:monitoring:Monitoring", name, None, opts)
        if aws_inputs.dr is not None and args.rpo_minutes is None:
            raise ValueError("Monitoring: DR inputs need args.rpo_minutes (replication alarms derive from it)")
        self.args = args
        tags = {**args.tags, "component": "monitoring"}
        self._tags = tags

        self.topic = aws.sns.Topic(
            f"{name}-alerts", name=f"{args.name}-alerts", display_name=f"{args.name} platform alerts",
            kms_master_key_id=aws_inputs.notifications_key_arn, tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
        self.alert_topic = self.topic.arn
        self.alertmanager_role = None
        self.alert_receiver = None
        extra_publishers: list[pulumi.Output[str]] = []
        if aws_inputs.irsa_role is not None:
            self._alertmanager(name, aws_inputs)
            extra_publishers.append(self.alertmanager_role.arn)
        self._topic_policy_and_subscriptions(f"{name}-alerts", self.topic, args, extra_publishers,
                                             pulumi.ResourceOptions(parent=self))

        alarms = self._primary_alarms(args, aws_inputs)
        self.dr_topic = None
        self.dr_alert_topic = None
        if aws_inputs.dr is not None:
            alarms += self._replication_alarms(args, aws_inputs.dr)
            self._dr_topic(name, args, aws_inputs.dr, tags)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for alarm in alarms:
            in_dr = alarm.region is not None and aws_inputs.dr is not None and alarm.region == aws_inputs.dr.region
            topic_arn = self.dr_topic.arn if in_dr else self.topic.arn
            alarm_opts = pulumi.ResourceOptions(parent=self, provider=aws_inputs.dr.provider if in_dr else None)
            self.alarms[alarm.key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm.key}", name=f"{args.name}-{alarm.key}", alarm_description=alarm.description,
                namespace=alarm.namespace, metric_name=alarm.metric, dimensions=alarm.dimensions,
                statistic=alarm.statistic, comparison_operator=alarm.comparison, threshold=alarm.threshold,
                period=alarm.period, evaluation_periods=alarm.evaluation_periods, treat_missing_data=alarm.missing,
                alarm_actions=[topic_arn], ok_actions=[topic_arn], tags=tags, opts=alarm_opts, **alarm.extra)
        self.alarm_names = {key: alarm.name for key, alarm in self.alarms.items()}

        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=f"{args.name}-platform",
            dashboard_body=self._dashboard_body(alarms, aws_inputs), opts=pulumi.ResourceOptions(parent=self))
        self.dashboard_name = self.dashboard.dashboard_name
        self.budget = self._budget(name, args)
        self.budget_name = self.budget.name

        self.register_outputs({
            "alertTopic": self.alert_topic, "drAlertTopic": self.dr_alert_topic, "alarmNames": self.alarm_names,
            "dashboardName": self.dashboard_name, "budgetName": self.budget_name,
        })

    # --- channel ---------------------------------------------------------------------------------

    def _topic_policy_and_subscriptions(self, name: str, topic: aws.sns.Topic, args: MonitoringArgs,
                                        extra_publishers: Sequence[pulumi.Input[str]],
                                        opts: pulumi.ResourceOptions) -> None:
        account = arn_part(topic.arn, 4)
        statements: list[dict] = [
            {"Sid": "AccountManagesTopic", "Effect": "Allow",
             "Principal": {"AWS": pulumi.Output.format("arn:aws:iam::{0}:root", account)},
             "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
                        "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic"],
             "Resource": topic.arn},
            {"Sid": "AlarmsBudgetsAndEventsOfThisAccountPublish", "Effect": "Allow",
             "Principal": {"Service": list(SERVICE_PUBLISHERS)}, "Action": "sns:Publish", "Resource": topic.arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
            {"Sid": "DenyPublishWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic.arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ]
        if extra_publishers:
            statements.insert(2, {"Sid": "AlertmanagerPublishes", "Effect": "Allow",
                                  "Principal": {"AWS": list(extra_publishers)}, "Action": "sns:Publish",
                                  "Resource": topic.arn})
        aws.sns.TopicPolicy(name, arn=topic.arn, policy=json_document(
            {"Version": "2012-10-17", "Statement": statements}), opts=opts)
        for email in args.alert_emails:
            aws.sns.TopicSubscription(f"{name}-{_slug(email)}", topic=topic.arn, protocol="email", endpoint=email,
                                      opts=opts)

    def _alertmanager(self, name: str, aws_inputs: AwsMonitoringInputs) -> None:
        """An IRSA role so the in-cluster Alertmanager publishes into the same (encrypted) topic."""
        policy = json_document({"Version": "2012-10-17", "Statement": [
            {"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": self.topic.arn},
            kms_via_service("EncryptThroughSns", ["kms:Decrypt", "kms:GenerateDataKey"],
                            aws_inputs.notifications_key_arn, "sns", aws_inputs.region),
        ]})
        self.alertmanager_role = aws_inputs.irsa_role(
            f"{name}-alertmanager", MONITORING_NAMESPACE, ALERTMANAGER_SERVICE_ACCOUNT, policy,
            pulumi.ResourceOptions(parent=self), tags=self._tags)
        # The body of a components.k8s.AlertReceiver (Alertmanager's service account gets the role).
        self.alert_receiver = {"sns_configs": [{
            "topic_arn": self.topic.arn, "sigv4": {"region": aws_inputs.region}, "send_resolved": True,
            "subject": f"[{self.args.environment}] {{{{ .CommonLabels.alertname }}}}",
        }]}

    def _dr_topic(self, name: str, args: MonitoringArgs, dr: DrMonitoringInputs, tags: dict) -> None:
        """Alarms on DR-region metrics (replica lag) notify through a topic in that region."""
        dr_opts = pulumi.ResourceOptions(parent=self, provider=dr.provider)
        self.dr_topic = aws.sns.Topic(
            f"{name}-dr-alerts", name=f"{args.name}-dr-alerts", display_name=f"{args.name} DR-region alerts",
            kms_master_key_id=dr.notifications_key_arn, tags={**tags, "dr-region": dr.region}, opts=dr_opts)
        self.dr_alert_topic = self.dr_topic.arn
        self._topic_policy_and_subscriptions(f"{name}-dr-alerts", self.dr_topic, args, (), dr_opts)

    # --- alarms ----------------------------------------------------------------------------------

    def _primary_alarms(self, args: MonitoringArgs, aws_inputs: AwsMonitoringInputs) -> list[_Alarm]:
        db = {"DBInstanceIdentifier": aws_inputs.db_instance_id}
        free_storage_bytes = int(aws_inputs.db_allocated_storage_gb * GIB * args.db_free_storage_ratio)
        connections = db_connection_alarm_threshold(aws_inputs.db_instance_class, args.db_connections_ratio)
        queue = {"QueueName": aws_inputs.interruption_queue_name}
        return [
            _Alarm("db-cpu", f"Tracking database CPU above {args.db_cpu_percent}% for 15 minutes",
                   "AWS/RDS", "CPUUtilization", db, "Average", "GreaterThanThreshold", args.db_cpu_percent),
            _Alarm("db-free-storage",
                   f"Tracking database free storage below {int(args.db_free_storage_ratio * 100)}% of allocated",
                   "AWS/RDS", "FreeStorageSpace", db, "Minimum", "LessThanThreshold", free_storage_bytes,
                   evaluation_periods=1),
            _Alarm("db-connections", f"Tracking database connections above {connections} "
                   f"({int(args.db_connections_ratio * 100)}% of max_connections for {aws_inputs.db_instance_class})",
                   "AWS/RDS", "DatabaseConnections", db, "Maximum", "GreaterThanThreshold", connections),
            _Alarm("interruption-queue-depth",
                   f"Spot interruption queue holds more than {args.interruption_queue_depth} messages",
                   "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, "Maximum", "GreaterThanThreshold",
                   args.interruption_queue_depth, evaluation_periods=2),
            _Alarm("interruption-queue-age",
                   f"Oldest spot interruption message is older than {args.interruption_queue_age_seconds} s "
                   "(the interruption handler is not consuming)",
                   "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, "Maximum", "GreaterThanThreshold",
                   args.interruption_queue_age_seconds, period=60, evaluation_periods=5),
            _Alarm("system-nodes-status-check", "A system node fails its EC2 status checks",
                   "AWS/EC2", "StatusCheckFailed", {"AutoScalingGroupName": aws_inputs.system_node_group_asg_name},
                   "Maximum", "GreaterThanOrEqualToThreshold", 1, evaluation_periods=2),
            _Alarm("unschedulable-pods",
                   f"Pods stayed unschedulable for {args.unschedulable_pods_minutes} minutes (no node can take them)",
                   "AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE", {"ClusterName": aws_inputs.cluster_name},
                   "Maximum", "GreaterThanThreshold", 0, period=60, evaluation_periods=args.unschedulable_pods_minutes),
        ]

    def _replication_alarms(self, args: MonitoringArgs, dr: DrMonitoringInputs) -> list[_Alarm]:
        rpo_seconds = args.rpo_minutes * 60
        alarms = [
            _Alarm("db-replica-lag", f"DR database replica lags more than {rpo_seconds // 2} s (half the RPO)",
                   "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": dr.db_replica_id}, "Maximum",
                   "GreaterThanThreshold", rpo_seconds // 2, missing="breaching", region=dr.region),
        ]
        for rule in dr.replication_rules:
            dimensions = {"SourceBucket": rule.source_bucket, "DestinationBucket": rule.destination_bucket,
                          "RuleId": rule.rule_id}
            alarms += [
                _Alarm(f"{rule.rule_id}-latency", f"{rule.rule_id}: objects take longer than the RPO to replicate",
                       "AWS/S3", "ReplicationLatency", dimensions, "Maximum", "GreaterThanThreshold", rpo_seconds),
                _Alarm(f"{rule.rule_id}-failures", f"{rule.rule_id}: object replication failed",
                       "AWS/S3", "OperationsFailedReplication", dimensions, "Sum", "GreaterThanThreshold", 0,
                       evaluation_periods=1),
            ]
        return alarms

    # --- dashboard and budget -----------------------------------------------------------------

    def _dashboard_body(self, alarms: list[_Alarm], aws_inputs: AwsMonitoringInputs) -> pulumi.Output[str]:
        """One metric widget per alarmed signal (with its threshold line), plus online-store traffic."""
        widgets = []
        for index, alarm in enumerate(alarms):
            metric = [alarm.namespace, alarm.metric]
            for key, value in alarm.dimensions.items():
                metric += [key, value]
            widgets.append({
                "type": "metric", "x": (index % 3) * 8, "y": (index // 3) * 6, "width": 8, "height": 6,
                "properties": {
                    "title": alarm.description, "region": alarm.region or aws_inputs.region,
                    "metrics": [metric], "stat": alarm.statistic, "period": alarm.period, "view": "timeSeries",
                    "annotations": {"horizontal": [{"label": "alarm", "value": alarm.threshold}]},
                },
            })
        row = (len(alarms) + 2) // 3 * 6
        if aws_inputs.online_table_names:
            widgets.append({
                "type": "metric", "x": 0, "y": row, "width": 24, "height": 6,
                "properties": {
                    "title": "Online store: consumed capacity and throttled requests", "region": aws_inputs.region,
                    "stat": "Sum", "period": 300, "view": "timeSeries",
                    "metrics": [m for table in aws_inputs.online_table_names for m in (
                        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", table],
                        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", table],
                        ["AWS/DynamoDB", "ThrottledRequests", "TableName", table],
                    )],
                },
            })
        return json_document({"widgets": widgets})

    def _budget(self, name: str, args: MonitoringArgs) -> aws.budgets.Budget:
        subscribers = {"subscriber_email_addresses": list(args.alert_emails) or None,
                       "subscriber_sns_topic_arns": [self.topic.arn]}
        notifications = [
            {"comparison_operator": "GREATER_THAN", "threshold": percent, "threshold_type": "PERCENTAGE",
             "notification_type": "ACTUAL", **subscribers}
            for percent in args.budget_actual_percents
        ] + [
            {"comparison_operator": "GREATER_THAN", "threshold": percent, "threshold_type": "PERCENTAGE",
             "notification_type": "FORECASTED", **subscribers}
            for percent in args.budget_forecast_percents
        ]
        return aws.budgets.Budget(
            f"{name}-monthly", name=f"{args.name}-monthly", budget_type="COST", time_unit="MONTHLY",
            limit_amount=f"{args.monthly_budget_usd:.2f}", limit_unit="USD",
            # Only this environment's spend: the `environment` tag must be an active cost-allocation tag.
            cost_filters=[{"name": "TagKeyValue", "values": [f"user:environment${args.environment}"]}],
            notifications=notifications, tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self))


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
