"""GCP monitoring: an email notification channel per alert address, Cloud Monitoring alert policies,
and a Cloud Billing budget.

Every signal exists without installing anything:
- Cloud SQL publishes CPU and disk utilization, PostgreSQL backends and (on the DR replica) replica lag;
- Bigtable publishes each cluster's CPU load: above the target with autoscaling at its ceiling,
  online-feature reads slow down;
- GKE sends Kubernetes events to Cloud Logging, so a node going NotReady (node controller event
  ``NodeNotReady``) and a pod the scheduler cannot place (``FailedScheduling``) are log-match alerts.

A Cloud Monitoring dashboard charts every alerted metric with its threshold (Grafana in the cluster
keeps the in-cluster views).

The alert channel output (``alert_topic``) is the list of notification channel ids: Cloud
Monitoring notifies channels directly; there is no topic in between. The in-cluster Alertmanager
has no Google-authenticated receiver (its email receiver would need SMTP credentials), so
``alert_receiver`` is None; the stack mails in-cluster alerts to the same addresses through an SMTP
relay instead (``components.monitoring.email_alerting``, ``mlops:monitoring.alertSmtp``).

The budget needs the billing account (``mlops:monitoring.billingAccount``, passed in). Without it
no budget is created and ``budget_skipped_reason`` says why; a budget is never pointed at a made-up
account. It covers this project's spend carrying the ``environment`` label of this stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_gcp as gcp

from components.monitoring import MonitoringArgs
from components.storage.gcp import gcp_labels
from components.documents import json_document

# Cloud SQL for PostgreSQL default max_connections by instance memory (GB, upper bound inclusive);
# at a boundary the lower value is used, so the alarm errs on the early side.
MAX_CONNECTIONS_BY_MEMORY_GB = ((0.6, 25), (3.75, 50), (6, 100), (7.5, 200), (15, 400), (30, 500), (60, 600),
                                (120, 800))
MAX_CONNECTIONS_LARGEST = 1000
FALLBACK_CONNECTION_ALARM = 100
LOG_ALERT_RATE_LIMIT = "300s"  # at most one notification per log-match alert every 5 minutes


def tier_memory_gb(tier: str) -> Optional[float]:
    """Memory of a ``db-custom-<vCPUs>-<MB>`` tier; None for shared-core or unknown tiers."""
    match = re.fullmatch(r"db-custom-(\d+)-(\d+)", tier)
    return int(match.group(2)) / 1024 if match else None


def db_connection_alarm_threshold(tier: str, ratio: float) -> int:
    memory = tier_memory_gb(tier)
    if memory is None:
        return FALLBACK_CONNECTION_ALARM
    limit = next((connections for bound, connections in MAX_CONNECTIONS_BY_MEMORY_GB if memory <= bound),
                 MAX_CONNECTIONS_LARGEST)
    return int(limit * ratio)


@dataclass(frozen=True)
class GcpMonitoringInputs:
    """GCP-only inputs: the project, the billing account, and the names of what is watched."""

    project: str
    project_number: pulumi.Input[str]
    billing_account: Optional[str]  # mlops:monitoring.billingAccount; None: no budget (budget_skipped_reason)
    db_instance_id: pulumi.Input[str]
    db_instance_tier: str
    cluster_name: pulumi.Input[str]
    db_replica_id: Optional[pulumi.Input[str]] = None  # DR: the cross-region replica
    online_store_instance: Optional[pulumi.Input[str]] = None  # the Bigtable instance of the feature store
    # The provider the budget is created with: under user credentials the Billing Budgets API needs
    # billing_project + user_project_override on it (pulumi-gcp billing.Budget docs); None = inherited.
    budget_provider: Optional[pulumi.ProviderResource] = None


@dataclass
class _Threshold:
    """One metric alert (kept as data so the dashboard charts exactly what is alerted)."""

    key: str
    description: str
    metric: str
    resource: pulumi.Output[str]  # the monitored-resource part of the filter
    comparison: str
    threshold: float
    aligner: str = "ALIGN_MEAN"
    duration: str = "900s"


class Monitoring(pulumi.ComponentResource):
    """Notification channels, alert policies and budget for one environment (see components.monitoring)."""

    def __init__(self, name: str, args: MonitoringArgs, gcp_inputs: GcpMonitoringInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        if gcp_inputs.db_replica_id is not None and args.rpo_minutes is None:
            raise ValueError("Monitoring: a DR replica needs args.rpo_minutes (the lag alarm derives from it)")
        super().__init__("mlops:monitoring:Monitoring", name, None, opts)
        self.args = args
        self._project = gcp_inputs.project
        self._labels = gcp_labels({**args.tags, "component": "monitoring"})
        child = pulumi.ResourceOptions(parent=self)

        self.channels = {email: gcp.monitoring.NotificationChannel(
            f"{name}-email-{_slug(email)}", project=gcp_inputs.project, type="email",
            display_name=f"{args.name} alerts: {email}", labels={"email_address": email},
            user_labels=self._labels, opts=child) for email in args.alert_emails}
        self.channel_ids = [channel.name for channel in self.channels.values()]
        self.alert_topic = self.channel_ids
        self.dr_alert_topic = None  # channels are global: DR-region alerts use the same ones
        self.alert_receiver = None
        self.alertmanager_role = None

        self.alerts: dict[str, gcp.monitoring.AlertPolicy] = {}
        thresholds = self._thresholds(args, gcp_inputs)
        for threshold in thresholds:
            self.alerts[threshold.key] = self._threshold_policy(name, threshold)
        self._log_policies(name, args, gcp_inputs)
        self.alarm_names = {key: policy.display_name for key, policy in self.alerts.items()}
        self.dashboard = gcp.monitoring.Dashboard(
            f"{name}-dashboard", project=gcp_inputs.project,
            dashboard_json=self._dashboard_json(args, thresholds), opts=pulumi.ResourceOptions(parent=self))
        self.dashboard_name = f"{args.name}-platform"

        self.budget = None
        self.budget_name = None
        self.budget_skipped_reason = None
        if gcp_inputs.billing_account:
            self.budget = self._budget(name, args, gcp_inputs)
            self.budget_name = self.budget.display_name
        else:
            self.budget_skipped_reason = ("no budget: set mlops:monitoring.billingAccount to the project's billing "
                                          "account id (budgets belong to a billing account, not to the project)")

        self.register_outputs({"alertChannels": self.alert_topic, "alarmNames": self.alarm_names,
                               "budgetName": self.budget_name})

    # --- alerts ----------------------------------------------------------------------------------

    def _thresholds(self, args: MonitoringArgs, gcp_inputs: GcpMonitoringInputs) -> list[_Threshold]:
        database = _cloud_sql(gcp_inputs.project, gcp_inputs.db_instance_id)
        connections = db_connection_alarm_threshold(gcp_inputs.db_instance_tier, args.db_connections_ratio)
        thresholds = [
            _Threshold("db-cpu", f"Tracking database CPU above {args.db_cpu_percent}% for 15 minutes",
                       "cloudsql.googleapis.com/database/cpu/utilization", database, "COMPARISON_GT",
                       args.db_cpu_percent / 100),
            _Threshold("db-disk", f"Tracking database disk more than {int((1 - args.db_free_storage_ratio) * 100)}% full",
                       "cloudsql.googleapis.com/database/disk/utilization", database, "COMPARISON_GT",
                       1 - args.db_free_storage_ratio, aligner="ALIGN_MAX", duration="300s"),
            _Threshold("db-connections", f"Tracking database connections above {connections} "
                       f"({int(args.db_connections_ratio * 100)}% of max_connections for {gcp_inputs.db_instance_tier})",
                       "cloudsql.googleapis.com/database/postgresql/num_backends", database, "COMPARISON_GT",
                       connections, aligner="ALIGN_MAX"),
        ]
        if gcp_inputs.db_replica_id is not None:
            lag = args.rpo_minutes * 60 // 2
            thresholds.append(_Threshold(
                "db-replica-lag", f"DR database replica lags more than {lag} s (half the RPO)",
                "cloudsql.googleapis.com/database/replication/replica_lag",
                _cloud_sql(gcp_inputs.project, gcp_inputs.db_replica_id), "COMPARISON_GT", lag,
                aligner="ALIGN_MAX", duration="300s"))
        if gcp_inputs.online_store_instance is not None:
            thresholds.append(_Threshold(
                "online-store-cpu", f"Online store (Bigtable) CPU load above {args.db_cpu_percent}% for 15 minutes",
                "bigtable.googleapis.com/cluster/cpu_load",
                pulumi.Output.format('resource.type = "bigtable_cluster" AND resource.labels.instance = "{0}"',
                                     gcp_inputs.online_store_instance), "COMPARISON_GT", args.db_cpu_percent / 100))
        return thresholds

    def _threshold_policy(self, name: str, threshold: _Threshold) -> gcp.monitoring.AlertPolicy:
        metric_filter = _metric_filter(threshold)
        return gcp.monitoring.AlertPolicy(
            f"{name}-{threshold.key}", project=self._project, display_name=f"{self.args.name}-{threshold.key}",
            combiner="OR", severity="ERROR",
            conditions=[{"display_name": threshold.description, "condition_threshold": {
                "filter": metric_filter, "comparison": threshold.comparison, "threshold_value": threshold.threshold,
                "duration": threshold.duration,
                # A store that stops reporting is itself a problem.
                "evaluation_missing_data": "EVALUATION_MISSING_DATA_ACTIVE",
                "aggregations": [{"alignment_period": "60s", "per_series_aligner": threshold.aligner}]}}],
            notification_channels=self.channel_ids,
            documentation={"content": threshold.description, "mime_type": "text/markdown"},
            user_labels=self._labels, opts=pulumi.ResourceOptions(parent=self))

    def _log_policies(self, name: str, args: MonitoringArgs, gcp_inputs: GcpMonitoringInputs) -> None:
        # Kubernetes events GKE writes to Cloud Logging (log "events"), of this cluster only.
        cluster = pulumi.Output.format('log_id("events") AND resource.labels.cluster_name = "{0}"',
                                       gcp_inputs.cluster_name)
        for key, description, log_filter in (
            ("nodes-not-ready", "A cluster node became NotReady (kubelet stopped reporting)",
             pulumi.Output.format('resource.type = "k8s_node" AND {0} AND jsonPayload.reason = "NodeNotReady"', cluster)),
            ("unschedulable-pods", "A pod cannot be scheduled (no node can take it)",
             pulumi.Output.format('resource.type = "k8s_pod" AND {0} AND jsonPayload.reason = "FailedScheduling"',
                                  cluster)),
        ):
            self.alerts[key] = gcp.monitoring.AlertPolicy(
                f"{name}-{key}", project=self._project, display_name=f"{args.name}-{key}", combiner="OR",
                severity="WARNING",
                conditions=[{"display_name": description, "condition_matched_log": {"filter": log_filter}}],
                alert_strategy={"notification_rate_limit": {"period": LOG_ALERT_RATE_LIMIT}, "auto_close": "1800s"},
                notification_channels=self.channel_ids,
                documentation={"content": description, "mime_type": "text/markdown"},
                user_labels=self._labels, opts=pulumi.ResourceOptions(parent=self))

    # --- dashboard and budget -------------------------------------------------------------------

    def _dashboard_json(self, args: MonitoringArgs, thresholds: list[_Threshold]) -> pulumi.Output[str]:
        """One chart per alerted metric, with the alert threshold drawn on it (two charts a row)."""
        tiles = [{
            "xPos": (index % 2) * 24, "yPos": (index // 2) * 16, "width": 24, "height": 16,
            "widget": {"title": threshold.description, "xyChart": {
                "dataSets": [{"plotType": "LINE", "timeSeriesQuery": {"timeSeriesFilter": {
                    "filter": _metric_filter(threshold),
                    "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": threshold.aligner}}}}],
                "thresholds": [{"value": threshold.threshold, "label": "alert"}]}},
        } for index, threshold in enumerate(thresholds)]
        return json_document({"displayName": f"{args.name}-platform",
                              "mosaicLayout": {"columns": 48, "tiles": tiles}})


    def _budget(self, name: str, args: MonitoringArgs, gcp_inputs: GcpMonitoringInputs) -> gcp.billing.Budget:
        thresholds = [{"threshold_percent": percent / 100, "spend_basis": "CURRENT_SPEND"}
                      for percent in args.budget_actual_percents]
        thresholds += [{"threshold_percent": percent / 100, "spend_basis": "FORECASTED_SPEND"}
                       for percent in args.budget_forecast_percents]
        units, nanos = divmod(round(args.monthly_budget_usd * 1_000_000_000), 1_000_000_000)
        return gcp.billing.Budget(
            f"{name}-monthly", billing_account=gcp_inputs.billing_account, display_name=f"{args.name}-monthly",
            amount={"specified_amount": {"currency_code": "USD", "units": str(units), "nanos": nanos}},
            budget_filter={
                "projects": [pulumi.Output.concat("projects/", gcp_inputs.project_number)],
                "labels": {"environment": args.environment},
                "calendar_period": "MONTH",
            },
            threshold_rules=thresholds,
            # Billing admins get the default emails; the platform's channels get every threshold too.
            all_updates_rule={"monitoring_notification_channels": self.channel_ids[:5],
                              "disable_default_iam_recipients": False},
            opts=pulumi.ResourceOptions(parent=self, provider=gcp_inputs.budget_provider))


def _cloud_sql(project: str, instance: pulumi.Input[str]) -> pulumi.Output[str]:
    """The monitored-resource filter of one Cloud SQL instance (database_id is ``<project>:<instance>``)."""
    return pulumi.Output.format('resource.type = "cloudsql_database" AND resource.labels.database_id = "{0}:{1}"',
                                project, instance)


def _metric_filter(threshold: _Threshold) -> pulumi.Output[str]:
    return pulumi.Output.format('{0} AND metric.type = "{1}"', threshold.resource, threshold.metric)


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
