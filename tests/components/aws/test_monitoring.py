"""Monitoring: KMS-encrypted SNS topic only AWS services of this account may publish to, email routes,
alarms on real metrics (DB, interruption queue, nodes, DR lag in the DR region), dashboard, budget."""

import json

import pulumi
import pytest

from components.monitoring import MonitoringArgs
from components.monitoring.aws import (AwsMonitoringInputs, Monitoring, db_connection_alarm_threshold,
                                       instance_memory_gib)

from .data_platform import data_platform
from .foundation import DR, NAME, PRIMARY, bound_to, policy, preview, provider_urn, statements

ACCOUNT = "123456789012"
EMAILS = ("oncall@example.com", "ml-platform@example.com")
QUEUE = f"{NAME}-interruptions"


def program(prod: bool):
    def run():
        platform = data_platform(prod=prod, dr=prod)
        cluster = platform.base.cluster
        monitoring = Monitoring("monitoring", MonitoringArgs(
            name=NAME, environment="prod" if prod else "dev", alert_emails=EMAILS if prod else EMAILS[:1],
            monthly_budget_usd=25000 if prod else 1500, rpo_minutes=15 if prod else None, tags={"environment": "test"}),
            AwsMonitoringInputs(
                region=PRIMARY, notifications_key_arn=platform.base.keys.notifications.arn,
                db_instance_id=platform.tracking.db_instance_id,
                db_instance_class="db.r7g.large" if prod else "db.t4g.medium",
                db_allocated_storage_gb=100 if prod else 20, interruption_queue_name=QUEUE,
                cluster_name=cluster.name, system_node_group_asg_name=cluster.system_node_group_asg_name,
                online_table_names=list(platform.features.online_tables.values()),
                irsa_role=cluster.irsa_role if prod else None,
                dr=platform.dr.monitoring_inputs if prod else None),
            opts=platform.base.opts)
        pulumi.export("topicArn", monitoring.alert_topic)
        pulumi.export("drTopicArn", monitoring.dr_alert_topic)
        pulumi.export("asgName", cluster.system_node_group_asg_name)
        pulumi.export("clusterName", cluster.name)
        if prod:
            pulumi.export("receiverTopic", monitoring.alert_receiver["sns_configs"][0]["topic_arn"])
        if prod:
            pulumi.export("alertmanagerRoleArn", monitoring.alertmanager_role.arn)
    return run


@pytest.fixture(scope="module")
def prod():
    return preview(program(prod=True))


@pytest.fixture(scope="module")
def dev():
    return preview(program(prod=False))


def alarm(result, key):
    return result.one("aws:cloudwatch/metricAlarm:MetricAlarm", f"monitoring-{key}")


def test_topic_is_encrypted_with_the_notifications_key(prod):
    topic = prod.one("aws:sns/topic:Topic", "monitoring-alerts")["inputs"]
    assert topic["kmsMasterKeyId"] == prod.outputs["key:notifications"]
    assert topic["tags"]["component"] == "monitoring"


def test_only_aws_services_of_this_account_and_alertmanager_may_publish(prod):
    document = policy(prod.one("aws:sns/topicPolicy:TopicPolicy", "monitoring-alerts"))
    by_sid = statements(document)
    services = by_sid["AlarmsBudgetsAndEventsOfThisAccountPublish"]
    assert sorted(services["Principal"]["Service"]) == ["budgets.amazonaws.com", "cloudwatch.amazonaws.com",
                                                         "events.amazonaws.com"]
    assert services["Action"] == "sns:Publish" and services["Resource"] == prod.outputs["topicArn"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert by_sid["AlertmanagerPublishes"]["Principal"] == {"AWS": [prod.outputs["alertmanagerRoleArn"]]}
    assert by_sid["DenyPublishWithoutTls"]["Effect"] == "Deny"
    assert "sns:Publish" not in by_sid["AccountManagesTopic"]["Action"]
    allows = [s for s in document["Statement"] if s["Effect"] == "Allow"]
    assert all(s["Principal"] != "*" and s["Principal"].get("AWS") != "*" for s in allows)


def test_each_alert_email_is_subscribed(prod, dev):
    subscriptions = [s["inputs"] for s in prod.by_type("aws:sns/topicSubscription:TopicSubscription")
                     if s["inputs"]["topic"] == prod.outputs["topicArn"]]
    assert sorted(s["endpoint"] for s in subscriptions) == sorted(EMAILS)
    assert all(s["protocol"] == "email" for s in subscriptions)
    assert len(dev.by_type("aws:sns/topicSubscription:TopicSubscription")) == 1


def test_database_alarms_watch_the_tracking_instance(prod, dev):
    cpu = alarm(prod, "db-cpu")["inputs"]
    assert (cpu["namespace"], cpu["metricName"], cpu["threshold"]) == ("AWS/RDS", "CPUUtilization", 80)
    assert cpu["dimensions"] == {"DBInstanceIdentifier": f"{NAME}-tracking"}
    storage = alarm(dev, "db-free-storage")["inputs"]
    assert storage["metricName"] == "FreeStorageSpace" and storage["comparisonOperator"] == "LessThanThreshold"
    assert storage["threshold"] == 2 * 1024 ** 3  # 10% of 20 GiB
    connections = alarm(dev, "db-connections")["inputs"]
    assert connections["metricName"] == "DatabaseConnections" and connections["threshold"] == 360  # 80% of 450


def test_interruption_queue_and_node_health_alarms_use_published_metrics(prod):
    depth = alarm(prod, "interruption-queue-depth")["inputs"]
    assert (depth["namespace"], depth["metricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert depth["dimensions"] == {"QueueName": QUEUE}
    assert alarm(prod, "interruption-queue-age")["inputs"]["metricName"] == "ApproximateAgeOfOldestMessage"
    nodes = alarm(prod, "system-nodes-status-check")["inputs"]
    assert (nodes["namespace"], nodes["metricName"]) == ("AWS/EC2", "StatusCheckFailed")
    assert nodes["dimensions"] == {"AutoScalingGroupName": prod.outputs["asgName"]}
    pending = alarm(prod, "unschedulable-pods")["inputs"]
    assert (pending["namespace"], pending["metricName"]) == ("AWS/EKS", "scheduler_pending_pods_UNSCHEDULABLE")
    assert pending["dimensions"] == {"ClusterName": prod.outputs["clusterName"]}


def test_primary_alarms_notify_the_primary_topic(prod):
    dr_urn = provider_urn(prod, "dr")
    for record in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        if bound_to(record, dr_urn):
            continue
        assert record["inputs"]["alarmActions"] == [prod.outputs["topicArn"]]
        assert record["inputs"]["okActions"] == [prod.outputs["topicArn"]]


def test_replica_lag_alarm_lives_in_the_dr_region_with_its_own_encrypted_topic(prod):
    dr = provider_urn(prod, "dr")
    lag = alarm(prod, "db-replica-lag")
    assert bound_to(lag, dr)
    inputs = lag["inputs"]
    assert inputs["metricName"] == "ReplicaLag" and inputs["dimensions"] == {"DBInstanceIdentifier": f"{NAME}-tracking-dr"}
    assert inputs["threshold"] == 450 and inputs["treatMissingData"] == "breaching"  # half of a 15-minute RPO
    assert inputs["alarmActions"] == [prod.outputs["drTopicArn"]] and f":sns:{DR}:" in prod.outputs["drTopicArn"]
    topic = prod.one("aws:sns/topic:Topic", "monitoring-dr-alerts")
    assert bound_to(topic, dr) and topic["inputs"]["kmsMasterKeyId"] == prod.outputs["replica:notifications"]
    assert bound_to(prod.one("aws:sns/topicPolicy:TopicPolicy", "monitoring-dr-alerts"), dr)


def test_object_replication_alarms_hold_the_rpo_per_rule(prod):
    for kind, bucket, replica in (("artifacts", "artifactBucket", "artifactReplicaBucket"),
                                  ("features", "featureBucket", "featureReplicaBucket")):
        latency = alarm(prod, f"{kind}-to-{DR}-latency")["inputs"]
        assert latency["metricName"] == "ReplicationLatency" and latency["threshold"] == 900
        assert latency["dimensions"] == {"SourceBucket": prod.outputs[bucket], "DestinationBucket": prod.outputs[replica],
                                         "RuleId": f"{kind}-to-{DR}"}
        assert alarm(prod, f"{kind}-to-{DR}-failures")["inputs"]["metricName"] == "OperationsFailedReplication"


def test_dev_without_dr_has_no_dr_alarms(dev):
    names = {a["name"] for a in dev.by_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert names == {f"monitoring-{k}" for k in ("db-cpu", "db-free-storage", "db-connections", "interruption-queue-depth",
                                                   "interruption-queue-age", "system-nodes-status-check", "unschedulable-pods")}
    assert dev.outputs.get("drTopicArn") is None


def test_dashboard_charts_every_alarmed_signal_and_the_online_tables(prod):
    body = json.loads(prod.one("aws:cloudwatch/dashboard:Dashboard")["inputs"]["dashboardBody"])
    charted = {tuple(w["properties"]["metrics"][0][:2]) for w in body["widgets"]}
    for record in prod.by_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert (record["inputs"]["namespace"], record["inputs"]["metricName"]) in charted
    lag = [w for w in body["widgets"] if w["properties"]["metrics"][0][1] == "ReplicaLag"]
    assert lag[0]["properties"]["region"] == DR
    online = [w for w in body["widgets"] if w["properties"]["metrics"][0][0] == "AWS/DynamoDB"]
    assert {m[3] for m in online[0]["properties"]["metrics"]} == {"mlops_prod.driver_stats", "mlops_prod.user_profile"}


def test_budget_filters_on_the_environment_tag_and_alerts_at_80_and_100_percent(prod):
    budget = prod.one("aws:budgets/budget:Budget")["inputs"]
    assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == (
        "COST", "MONTHLY", "25000.00", "USD")
    assert budget["costFilters"] == [{"name": "TagKeyValue", "values": ["user:environment$prod"]}]
    notifications = {(n["notificationType"], n["threshold"]) for n in budget["notifications"]}
    assert notifications == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    for notification in budget["notifications"]:
        assert notification["subscriberSnsTopicArns"] == [prod.outputs["topicArn"]]
        assert sorted(notification["subscriberEmailAddresses"]) == sorted(EMAILS)
        assert notification["thresholdType"] == "PERCENTAGE" and notification["comparisonOperator"] == "GREATER_THAN"


def test_alertmanager_role_publishes_only_to_the_topic(prod):
    [trust] = policy(prod.one("aws:iam/role:Role", "monitoring-alertmanager"), "assumeRolePolicy")["Statement"]
    assert trust["Condition"]["StringEquals"][f"{prod.outputs['oidcIssuer']}:sub"] == \
        "system:serviceaccount:monitoring:alertmanager"
    by_sid = statements(policy(prod.one("aws:iam/rolePolicy:RolePolicy", "monitoring-alertmanager")))
    assert by_sid["PublishAlerts"]["Resource"] == prod.outputs["topicArn"]
    assert by_sid["EncryptThroughSns"]["Resource"] == prod.outputs["key:notifications"]
    assert prod.outputs["receiverTopic"] == prod.outputs["topicArn"]


def test_connection_limits_follow_the_instance_memory():
    assert instance_memory_gib("db.t4g.medium") == 4 and instance_memory_gib("db.r7g.large") == 16
    assert instance_memory_gib("db.m6i.4xlarge") == 64 and instance_memory_gib("db.serverless") is None
    assert db_connection_alarm_threshold("db.r7g.large", 0.8) == 1441  # 0.8 * floor(16 GiB / 9531392 B = 1802)
    assert db_connection_alarm_threshold("db.x2g.16xlarge", 0.8) == 4000  # capped at 5000 connections
    assert db_connection_alarm_threshold("db.unknown", 0.8) == 100
    with pytest.raises(ValueError, match="monthly_budget_usd"):
        MonitoringArgs(name=NAME, environment="dev", alert_emails=(), monthly_budget_usd=0)
