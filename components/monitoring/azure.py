"""Azure cloud-side monitoring: Log Analytics, an action group, metric alerts, diagnostic settings, a budget.

- Log Analytics workspace: Entra-only access (local auth off), resource-permission access mode,
  no public ingestion (diagnostic settings reach it over the Azure backbone, which network
  isolation does not affect); queries stay reachable for the portal, gated by RBAC.
- Action group: one email receiver per ``mlops:monitoring.alertEmails`` (common alert schema).
- Metric alerts, each into the action group: PostgreSQL CPU, storage and connections (connections
  against the size's ``max_connections`` where Azure documents it, otherwise failed connections);
  DR replica lag above half the RPO (on the replica, where Azure emits the metric); AKS nodes
  NotReady.
- Diagnostic settings to the workspace: Key Vault (all logs, audit included), PostgreSQL (all logs),
  AKS control plane (API server, audit-admin, controller manager, scheduler, autoscaler, guard),
  the blob service of every storage account (StorageRead, StorageWrite, StorageDelete: who read or
  changed which model artifact or feature file, the Azure counterpart of S3 server access logging),
  into resource-specific tables.
- Consumption budget on the resource group: actual cost at 80% and 100%, forecast at 100%, to
  the alert emails and the action group. It starts on the first day of the month of the run (Azure
  wants a first-of-month start no earlier than the current month); the start is fixed at creation
  (``ignore_changes``), after which Azure counts month by month.

Alertmanager has no credential-free way to post into an action group, so ``alert_receiver`` and
``alertmanager_role`` are None on Azure: the stack routes in-cluster alerts to the same alert emails
through an SMTP relay instead (``components.monitoring.email_alerting``, ``mlops:monitoring.alertSmtp``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_azure_native as azure

from components.monitoring import MonitoringArgs

# max_connections Azure sets per flexible-server size (Azure docs: "Limits in Azure Database for PostgreSQL").
POSTGRES_MAX_CONNECTIONS = {
    "Standard_B1ms": 50, "Standard_B2s": 429, "Standard_B2ms": 859, "Standard_B4ms": 1718, "Standard_B8ms": 3437,
    "Standard_D2s_v3": 859, "Standard_D4s_v3": 1718, "Standard_D8s_v3": 3437, "Standard_D16s_v3": 5000,
    "Standard_D2ds_v4": 859, "Standard_D4ds_v4": 1718, "Standard_D8ds_v4": 3437, "Standard_D16ds_v4": 5000,
    "Standard_D2ds_v5": 859, "Standard_D4ds_v5": 1718, "Standard_D8ds_v5": 3437, "Standard_D16ds_v5": 5000,
    "Standard_E2ds_v4": 1718, "Standard_E4ds_v4": 3437, "Standard_E8ds_v4": 5000,
    "Standard_E2ds_v5": 1718, "Standard_E4ds_v5": 3437, "Standard_E8ds_v5": 5000,
}
# Blob service resource-log categories (Azure Monitor: "Microsoft.Storage/storageAccounts/blobServices").
BLOB_ACCESS_LOGS = ("StorageRead", "StorageWrite", "StorageDelete")
AKS_CONTROL_PLANE_LOGS = ("kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler",
                          "cluster-autoscaler", "guard")


@dataclass(frozen=True)
class AzureMonitoringInputs:
    """Azure-only inputs: what to watch and where the budget applies."""

    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]  # the budget's scope
    location: str
    postgres_server_id: pulumi.Input[str]
    postgres_sku: str
    # The budget's first period: the first day of the current month (Azure rejects a start before the
    # current month). It comes from the caller's injectable "today" (stacks/clock.py), never a constant.
    budget_start: dt.date
    key_vault_id: Optional[pulumi.Input[str]] = None
    cluster_id: Optional[pulumi.Input[str]] = None
    dr_postgres_replica_id: Optional[pulumi.Input[str]] = None  # DR on: alert on replica lag
    log_retention_days: int = 30
    # purpose -> storage account id: their blob services log reads, writes and deletes to the workspace.
    # DR accounts in the other region log here too: a Log Analytics destination may be in any region
    # (only storage-account and Event Hubs destinations must share the resource's region; Azure Monitor
    # docs, "Diagnostic settings", not visible offline).
    storage_account_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


def _criteria(metric: str, namespace: str, operator: str, threshold: float, aggregation: str,
              dimensions: Optional[list] = None) -> azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs:
    # Typed args, not dicts: `criteria` is a union, so the SDK cannot translate a dict's keys.
    criterion = azure.monitor.MetricCriteriaArgs(
        criterion_type="StaticThresholdCriterion", name=metric, metric_name=metric, metric_namespace=namespace,
        operator=operator, threshold=threshold, time_aggregation=aggregation,
        dimensions=[azure.monitor.MetricDimensionArgs(**d) for d in dimensions] if dimensions else None)
    return azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
        odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", all_of=[criterion])


class Monitoring(pulumi.ComponentResource):
    """Workspace, action group, metric alerts, diagnostic settings and budget (see module docstring)."""

    def __init__(self, name: str, args: MonitoringArgs, azure_inputs: AzureMonitoringInputs,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("mlops:monitoring:Monitoring", name, None, opts)
        inputs = azure_inputs
        if inputs.budget_start.day != 1:
            raise ValueError(f"budget_start {inputs.budget_start.isoformat()} must be the first day of a month")
        if inputs.dr_postgres_replica_id is not None and args.rpo_minutes is None:
            raise ValueError("a DR replica needs rpo_minutes (replica-lag alerts derive from it)")
        tags = {**args.tags, "component": "monitoring"}
        child = pulumi.ResourceOptions(parent=self)
        rg = inputs.resource_group_name
        self.args = args

        self.workspace = azure.operationalinsights.Workspace(
            f"{name}-logs", workspace_name=f"{args.name}-logs", resource_group_name=rg, location=inputs.location,
            sku={"name": "PerGB2018"}, retention_in_days=inputs.log_retention_days,
            features={"disable_local_auth": True, "enable_log_access_using_only_resource_permissions": True},
            public_network_access_for_ingestion="Disabled", public_network_access_for_query="Enabled",
            tags=tags, opts=child)
        self.workspace_id = self.workspace.id

        self.action_group = azure.monitor.ActionGroup(
            f"{name}-alerts", action_group_name=f"{args.name}-alerts", resource_group_name=rg, location="global",
            group_short_name=args.name[:12], enabled=True,
            email_receivers=[{"name": f"email-{index}", "email_address": email, "use_common_alert_schema": True}
                             for index, email in enumerate(args.alert_emails)],
            tags=tags, opts=child)
        self.alert_topic = self.action_group.id
        self.dr_alert_topic = None  # Azure action groups are global: DR-region alerts use the same one
        self.alert_receiver = None
        self.alertmanager_role = None

        self.alerts: dict[str, azure.monitor.MetricAlert] = {}
        postgres = "Microsoft.DBforPostgreSQL/flexibleServers"
        self._alert(name, "db-cpu", inputs, inputs.postgres_server_id,
                    f"{args.name}: tracking database CPU above {args.db_cpu_percent}%",
                    _criteria("cpu_percent", postgres, "GreaterThan", args.db_cpu_percent, "Average"), tags)
        self._alert(name, "db-storage", inputs, inputs.postgres_server_id,
                    f"{args.name}: tracking database storage above {100 - args.db_free_storage_ratio * 100:.0f}%",
                    _criteria("storage_percent", postgres, "GreaterThan", round(100 - args.db_free_storage_ratio * 100),
                              "Maximum"), tags)
        max_connections = POSTGRES_MAX_CONNECTIONS.get(inputs.postgres_sku)
        if max_connections:
            threshold = int(max_connections * args.db_connections_ratio)
            self._alert(name, "db-connections", inputs, inputs.postgres_server_id,
                        f"{args.name}: tracking database above {threshold} of {max_connections} connections",
                        _criteria("active_connections", postgres, "GreaterThan", threshold, "Maximum"), tags)
        else:
            self._alert(name, "db-connections", inputs, inputs.postgres_server_id,
                        f"{args.name}: tracking database refuses connections",
                        _criteria("connections_failed", postgres, "GreaterThan", 0, "Total"), tags)
        if inputs.dr_postgres_replica_id is not None:
            lag_seconds = args.rpo_minutes * 60 // 2
            self._alert(name, "db-replica-lag", inputs, inputs.dr_postgres_replica_id,
                        f"{args.name}: DR replica more than {lag_seconds} s behind (half the RPO)",
                        _criteria("physical_replication_delay_in_seconds", postgres, "GreaterThan", lag_seconds,
                                  "Maximum"), tags)
        if inputs.cluster_id is not None:
            self._alert(name, "nodes-not-ready", inputs, inputs.cluster_id,
                        f"{args.name}: cluster nodes NotReady",
                        _criteria("kube_node_status_condition", "Microsoft.ContainerService/managedClusters",
                                  "GreaterThan", 0, "Average",
                                  [{"name": "status2", "operator": "Include", "values": ["NotReady"]}]),
                        tags, window="PT15M")
        self.alarm_names = {purpose: alert.name for purpose, alert in self.alerts.items()}

        self.diagnostics = {}
        targets = {"postgres": (inputs.postgres_server_id, [{"category_group": "allLogs", "enabled": True}])}
        if inputs.key_vault_id is not None:
            # allLogs includes the audit group (every key operation, who and from where).
            targets["key-vault"] = (inputs.key_vault_id, [{"category_group": "allLogs", "enabled": True}])
        if inputs.cluster_id is not None:
            targets["cluster"] = (inputs.cluster_id, [{"category": c, "enabled": True} for c in AKS_CONTROL_PLANE_LOGS])
        for purpose, account_id in sorted(inputs.storage_account_ids.items()):
            # The blob service is a child resource of the account; its logs are configured on it, not on the account.
            targets[f"blob-{purpose}"] = (pulumi.Output.concat(account_id, "/blobServices/default"),
                                          [{"category": c, "enabled": True} for c in BLOB_ACCESS_LOGS])
        for target, (resource_id, logs) in targets.items():
            self.diagnostics[target] = azure.monitor.DiagnosticSetting(
                f"{name}-diag-{target}", name=f"{args.name}-to-log-analytics", resource_uri=resource_id,
                workspace_id=self.workspace.id, log_analytics_destination_type="Dedicated", logs=logs, opts=child)

        notifications = {}
        for percent in args.budget_actual_percents:
            notifications[f"actual-{percent}"] = self._notification(percent, "Actual")
        for percent in args.budget_forecast_percents:
            notifications[f"forecast-{percent}"] = self._notification(percent, "Forecasted")
        self.budget = azure.consumption.Budget(
            f"{name}-budget", budget_name=f"{args.name}-monthly", scope=inputs.resource_group_id,
            amount=args.monthly_budget_usd, category="Cost", time_grain="Monthly",
            time_period={"start_date": f"{inputs.budget_start.isoformat()}T00:00:00Z"}, notifications=notifications,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["timePeriod"]))
        self.budget_name = self.budget.name
        self.dashboard_name = None  # Azure Monitor workbooks are not built here; Grafana carries the dashboards

        self.register_outputs({"alertTopic": self.alert_topic, "alarmNames": self.alarm_names,
                               "budgetName": self.budget_name, "workspaceId": self.workspace_id})

    def _notification(self, percent: int, kind: str) -> dict:
        return {"enabled": True, "operator": "GreaterThanOrEqualTo", "threshold": percent, "threshold_type": kind,
                "contact_emails": list(self.args.alert_emails), "contact_groups": [self.action_group.id]}

    def _alert(self, name: str, purpose: str, inputs: AzureMonitoringInputs, scope: pulumi.Input[str],
               description: str, criteria: azure.monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs, tags: dict, *, window: str = "PT5M") -> None:
        self.alerts[purpose] = azure.monitor.MetricAlert(
            f"{name}-{purpose}", rule_name=f"{self.args.name}-{purpose}", resource_group_name=inputs.resource_group_name,
            location="global", description=description, enabled=True, severity=2 if purpose.startswith("db") else 1,
            scopes=[scope], evaluation_frequency="PT1M", window_size=window, criteria=criteria,
            auto_mitigate=True, actions=[{"action_group_id": self.action_group.id}], tags=tags,
            opts=pulumi.ResourceOptions(parent=self))
