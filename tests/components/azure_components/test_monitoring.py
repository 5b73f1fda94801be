"""Monitoring on Azure: workspace, action group with the emails, metric alerts on the database,
replica and nodes, diagnostic settings, and the resource-group budget at 80/100%."""

import datetime as dt

import pulumi
import pytest

from components.monitoring import MonitoringArgs
from components.monitoring.azure import AzureMonitoringInputs, Monitoring

from .service_inputs import NAME, PRIMARY, preview

RG = "/subscriptions/00000000-0000-4000-8000-000000000000/resourceGroups/mlops-test-rg"
SERVER = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{NAME}-tracking"
REPLICA = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{NAME}-tracking-dr"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/mlopstestkv"
CLUSTER = f"{RG}/providers/Microsoft.ContainerService/managedClusters/{NAME}"
ACCOUNTS = {"artifacts": f"{RG}/providers/Microsoft.Storage/storageAccounts/mlopstestartifacts",
            "features": f"{RG}/providers/Microsoft.Storage/storageAccounts/mlopstestfeatures"}
EMAILS = ("ml@example.com", "oncall@example.com")


BUDGET_START = dt.date(2027, 3, 1)


def program(dr: bool, sku: str = "Standard_D2ds_v5", budget_start: dt.date = BUDGET_START, accounts=None):
    def run():
        monitoring = Monitoring("monitoring", MonitoringArgs(
            name=NAME, environment="prod", alert_emails=EMAILS, monthly_budget_usd=800,
            rpo_minutes=15 if dr else None, tags={"environment": "test"}),
            AzureMonitoringInputs(resource_group_name="mlops-test-rg", resource_group_id=RG, location=PRIMARY,
                                  postgres_server_id=SERVER, postgres_sku=sku, budget_start=budget_start,
                                  key_vault_id=VAULT, cluster_id=CLUSTER,
                                  dr_postgres_replica_id=REPLICA if dr else None,
                                  storage_account_ids=accounts or {}))
        pulumi.export("actionGroup", monitoring.alert_topic)
    return run


@pytest.fixture(scope="module")
def dr():
    return preview(program(dr=True))


def alerts(result):
    return {a["inputs"]["ruleName"].removeprefix(f"{NAME}-"): a["inputs"]
            for a in result.by_type("azure-native:monitor:MetricAlert")}


def metric(alert):
    (criterion,) = alert["criteria"]["allOf"]
    return criterion["metricName"], criterion["operator"], criterion["threshold"]


def test_action_group_mails_every_alert_email(dr):
    (group,) = dr.by_type("azure-native:monitor:ActionGroup")
    assert [r["emailAddress"] for r in group["inputs"]["emailReceivers"]] == list(EMAILS)
    assert len(group["inputs"]["groupShortName"]) <= 12


def test_database_replica_and_node_alerts_fire_into_the_action_group(dr):
    found = alerts(dr)
    assert set(found) == {"db-cpu", "db-storage", "db-connections", "db-replica-lag", "nodes-not-ready"}
    assert metric(found["db-cpu"]) == ("cpu_percent", "GreaterThan", 80)
    assert metric(found["db-storage"]) == ("storage_percent", "GreaterThan", 90)
    assert metric(found["db-connections"]) == ("active_connections", "GreaterThan", int(859 * 0.8))
    assert metric(found["db-replica-lag"]) == ("physical_replication_delay_in_seconds", "GreaterThan", 450)
    assert found["db-replica-lag"]["scopes"] == [REPLICA]
    assert found["db-cpu"]["scopes"] == [SERVER]
    assert found["nodes-not-ready"]["scopes"] == [CLUSTER]
    for alert in found.values():
        assert alert["actions"] == [{"actionGroupId": dr.outputs["actionGroup"]}]


def test_unknown_database_size_alerts_on_refused_connections():
    found = alerts(preview(program(dr=False, sku="Standard_D96ds_v5")))
    assert metric(found["db-connections"]) == ("connections_failed", "GreaterThan", 0)
    assert "db-replica-lag" not in found


def test_key_vault_postgres_and_control_plane_logs_go_to_the_workspace(dr):
    (workspace,) = dr.by_type("azure-native:operationalinsights:Workspace")
    assert workspace["inputs"]["features"]["disableLocalAuth"] is True
    settings = {d["inputs"]["resourceUri"]: d["inputs"] for d in dr.by_type("azure-native:monitor:DiagnosticSetting")}
    assert set(settings) == {SERVER, VAULT, CLUSTER}
    assert {log["category"] for log in settings[CLUSTER]["logs"]} >= {"kube-apiserver", "kube-audit-admin"}
    assert settings[VAULT]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    assert all(s["workspaceId"] == settings[SERVER]["workspaceId"] for s in settings.values())


def test_blob_reads_writes_and_deletes_of_every_storage_account_go_to_the_workspace():
    # CKV2_AZURE_21 / the S3 access-logging counterpart: who read which artifact is answerable.
    result = preview(program(dr=False, accounts=ACCOUNTS))
    settings = {d["inputs"]["resourceUri"]: d["inputs"] for d in result.by_type("azure-native:monitor:DiagnosticSetting")}
    for account in ACCOUNTS.values():
        blob = settings[f"{account}/blobServices/default"]
        assert blob["logs"] == [{"category": c, "enabled": True} for c in ("StorageRead", "StorageWrite", "StorageDelete")]
        assert blob["logAnalyticsDestinationType"] == "Dedicated" and blob["workspaceId"] == settings[SERVER]["workspaceId"]
    assert set(settings) == {SERVER, VAULT, CLUSTER} | {f"{a}/blobServices/default" for a in ACCOUNTS.values()}


def test_budget_on_the_resource_group_at_80_and_100_percent(dr):
    (budget,) = dr.by_type("azure-native:consumption:Budget")
    inputs = budget["inputs"]
    assert (inputs["scope"], inputs["amount"], inputs["timeGrain"]) == (RG, 800, "Monthly")
    thresholds = {(n["thresholdType"], n["threshold"]) for n in inputs["notifications"].values()}
    assert thresholds == {("Actual", 80), ("Actual", 100), ("Forecasted", 100)}
    for notification in inputs["notifications"].values():
        assert notification["contactEmails"] == list(EMAILS)
        assert notification["contactGroups"] == [dr.outputs["actionGroup"]]


def test_budget_starts_on_the_given_first_of_month_not_a_fixed_date(dr):
    """Azure rejects a budget whose start lies before the current month: the start is the caller's month."""
    (budget,) = dr.by_type("azure-native:consumption:Budget")
    assert budget["inputs"]["timePeriod"] == {"startDate": "2027-03-01T00:00:00Z"}
    later = preview(program(dr=False, budget_start=dt.date(2031, 12, 1)))
    (budget,) = later.by_type("azure-native:consumption:Budget")
    assert budget["inputs"]["timePeriod"] == {"startDate": "2031-12-01T00:00:00Z"}


def test_a_budget_start_that_is_not_a_first_of_month_is_refused():
    from mlops_tools.engine.preview import PreviewError

    with pytest.raises(PreviewError, match="2027-03-15 must be the first day of a month"):
        preview(program(dr=False, budget_start=dt.date(2027, 3, 15)))
