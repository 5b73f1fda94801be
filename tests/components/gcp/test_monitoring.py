"""Monitoring on GCP: an email channel per address, Cloud SQL and GKE alert policies that notify them
(replica lag when DR is on), and a budget only when a real billing account is configured."""

import json

import pytest

from components.monitoring import MonitoringArgs
from components.monitoring.gcp import GcpMonitoringInputs, Monitoring, db_connection_alarm_threshold

from .data_platform import EMAILS, NAME, PROJECT, PROJECT_NUMBER, dev, inputs, prod

POLICY = "gcp:monitoring/alertPolicy:AlertPolicy"
CHANNEL = "gcp:monitoring/notificationChannel:NotificationChannel"
BUDGET = "gcp:billing/budget:Budget"


def policies(result):
    return {r["name"].removeprefix("monitoring-"): r["inputs"] for r in result.by_type(POLICY)}


def test_one_email_channel_per_alert_address(dev):
    channels = [r["inputs"] for r in dev.by_type(CHANNEL)]
    assert sorted(c["labels"]["email_address"] for c in channels) == sorted(EMAILS)
    assert all(c["type"] == "email" for c in channels)


def test_database_alerts_watch_the_tracking_instance_and_notify_every_channel(dev):
    found = policies(dev)
    assert set(found) == {"db-cpu", "db-disk", "db-connections", "online-store-cpu", "nodes-not-ready",
                          "unschedulable-pods"}
    channels = dev.outputs["alertChannels"]
    assert len(channels) == len(EMAILS)
    for key in ("db-cpu", "db-disk", "db-connections"):
        [condition] = found[key]["conditions"]
        threshold = condition["conditionThreshold"]
        assert f'resource.labels.database_id = "{PROJECT}:{NAME}-tracking"' in threshold["filter"]
        assert found[key]["notificationChannels"] == channels
    assert found["db-cpu"]["conditions"][0]["conditionThreshold"]["thresholdValue"] == 0.8
    assert found["db-disk"]["conditions"][0]["conditionThreshold"]["thresholdValue"] == 0.9


def test_online_store_alert_watches_the_feature_store_bigtable_clusters(dev):
    threshold = policies(dev)["online-store-cpu"]["conditions"][0]["conditionThreshold"]
    assert threshold["filter"] == ('resource.type = "bigtable_cluster" AND resource.labels.instance = '
                                   f'"{NAME}-features" AND metric.type = "bigtable.googleapis.com/cluster/cpu_load"')
    assert threshold["thresholdValue"] == 0.8


def test_dashboard_charts_every_alerted_metric_with_its_threshold(prod):
    dashboard = json.loads(inputs(prod, "gcp:monitoring/dashboard:Dashboard", "monitoring-dashboard")["dashboardJson"])
    assert dashboard["displayName"] == f"{NAME}-platform"
    charts = {tile["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["filter"]:
              tile["widget"]["xyChart"]["thresholds"][0]["value"] for tile in dashboard["mosaicLayout"]["tiles"]}
    alerted = {c["conditionThreshold"]["filter"]: c["conditionThreshold"]["thresholdValue"]
               for policy in policies(prod).values() for c in policy["conditions"] if "conditionThreshold" in c}
    assert charts == alerted and len(charts) == 5


def test_connection_alarm_follows_the_tier_memory():
    assert db_connection_alarm_threshold("db-custom-2-7680", 0.8) == 160  # 7.5 GB: max_connections 200
    assert db_connection_alarm_threshold("db-custom-4-15360", 0.8) == 320
    assert db_connection_alarm_threshold("db-f1-micro", 0.8) == 100  # not derivable: fallback


def test_cluster_alerts_match_this_cluster_events_and_are_rate_limited(dev):
    found = policies(dev)
    for key, reason in (("nodes-not-ready", "NodeNotReady"), ("unschedulable-pods", "FailedScheduling")):
        [condition] = found[key]["conditions"]
        log_filter = condition["conditionMatchedLog"]["filter"]
        assert 'log_id("events") AND ' in log_filter
        assert f'resource.labels.cluster_name = "{NAME}"' in log_filter and f'jsonPayload.reason = "{reason}"' in log_filter
        assert found[key]["alertStrategy"]["notificationRateLimit"] == {"period": "300s"}


def test_dr_adds_a_replica_lag_alert_at_half_the_rpo(prod, dev):
    lag = policies(prod)["db-replica-lag"]["conditions"][0]["conditionThreshold"]
    assert f'"{PROJECT}:{NAME}-tracking-dr"' in lag["filter"]
    assert lag["thresholdValue"] == 15 * 60 // 2
    assert "db-replica-lag" not in policies(dev)


def test_budget_alerts_at_80_and_100_percent_of_this_environment_spend(prod):
    budget = inputs(prod, BUDGET, "monitoring-monthly")
    assert budget["billingAccount"] == "0X0X0X-0X0X0X-0X0X0X"
    assert budget["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "750", "nanos": 0}}
    assert {(rule["thresholdPercent"], rule["spendBasis"]) for rule in budget["thresholdRules"]} == {
        (0.8, "CURRENT_SPEND"), (1.0, "CURRENT_SPEND"), (1.0, "FORECASTED_SPEND")}
    assert budget["budgetFilter"]["projects"] == [f"projects/{PROJECT_NUMBER}"]
    assert budget["budgetFilter"]["labels"] == {"environment": "prod"}
    assert budget["allUpdatesRule"]["monitoringNotificationChannels"] == prod.outputs["alertChannels"]


def test_no_billing_account_means_no_budget_never_a_made_up_one(dev):
    assert dev.by_type(BUDGET) == []
    assert "budgetName" not in dev.outputs
    assert "set mlops:monitoring.billingAccount" in dev.outputs["budgetSkippedReason"]


def test_replica_without_an_rpo_is_refused_in_one_line():
    with pytest.raises(ValueError, match="needs args.rpo_minutes"):
        Monitoring("monitoring", MonitoringArgs(name=NAME, environment="prod", alert_emails=(), monthly_budget_usd=1),
                   GcpMonitoringInputs(project=PROJECT, project_number=PROJECT_NUMBER, billing_account=None,
                                       db_instance_id="db", db_instance_tier="db-custom-2-7680", cluster_name=NAME,
                                       db_replica_id="db-dr"))
