"""Azure replication health for `status`: the Postgres replica's lag, object replication into the DR accounts,
the Managed Redis geo-replication link, and the registry's geo-replica."""

from __future__ import annotations

from typing import Callable, Optional

from azure.core.exceptions import AzureError

from mlops_tools.ops.azure.dr.calls import AzureCalls, dr_redis_database_id
from mlops_tools.ops.azure.dr.errors import describe_failure
from mlops_tools.ops.runbook import FAIL, OK, WARN, Check, guarded, lag_check


def _guarded(area: str, check: Callable[[], list[Check]]) -> list[Check]:
    return guarded(area, check, (AzureError,), describe_failure)


def role(server: Optional[dict]) -> str:
    """A flexible server's role in its replication set: Primary, AsyncReplica, GeoAsyncReplica or None."""
    return str(((server or {}).get("replica") or {}).get("role") or "None")


def is_replica(server: Optional[dict]) -> bool:
    return role(server) in ("AsyncReplica", "GeoAsyncReplica")


def check_database(azure: AzureCalls) -> list[Check]:
    target = azure.target
    replica = azure.server(target.dr_resource_group, target.replica_server)
    if replica is None:
        return [Check("database", FAIL, f"replica {target.replica_server} not found in {target.dr_region}")]
    if not is_replica(replica):
        members = azure.writer_members(target.dr_resource_group, target.replica_server) or []
        serving = bool(members) and members[0] == target.replica_server
        return [Check("database", FAIL, f"{target.replica_server} in {target.dr_region} is {role(replica)}, not a replica"
                      + (" and serves the writer endpoint (failed over): nothing protects it; run make dr-failback"
                         if serving else ": nothing protects the primary"))]
    source = str(replica.get("sourceServerResourceId") or "")
    if source.rstrip("/").split("/")[-1] != target.primary_server:
        return [Check("database", FAIL, f"replica {target.replica_server} replicates from {source or 'nothing'}, "
                                        f"not from {target.primary_server}")]
    checks: list[Check] = []
    state = (replica.get("replica") or {}).get("replicationState")
    if state in ("Broken",):
        return [Check("database", FAIL, f"replica {target.replica_server}: replication is {state}")]
    if state not in ("Active",):
        checks.append(Check("database", WARN, f"replica {target.replica_server}: replication is {state}"))
    lag = azure.replica_lag_seconds(target.dr_resource_group, target.replica_server)
    checks.append(lag_check("database", f"replica {target.replica_server} in {target.dr_region}", lag,
                            target.rpo_seconds))
    return checks


def check_object_replication(azure: AzureCalls, area: str, source: Optional[str], replica: Optional[str]) -> list[Check]:
    target = azure.target
    if not source or not replica:
        return [Check(area, FAIL, "the stack exports no replicated storage account for it")]
    policies = azure.replication_policies(target.resource_group, source)
    covering = [policy for policy in policies
                if str(policy.get("destinationAccount") or "").rstrip("/").split("/")[-1] == replica]
    if not covering:
        return [Check(area, FAIL, f"no object replication policy copies {source} to {replica}")]
    rules = [rule for policy in covering for rule in policy.get("rules") or []]
    containers = ", ".join(sorted(str(rule.get("sourceContainer")) for rule in rules)) or "no containers"
    # Azure publishes no lag for object replication; the drill compares the newest blob on both sides.
    return [Check(area, OK, f"{source} -> {replica} replicates {containers} (policy {covering[0].get('policyId')})")]


def check_online_store(azure: AzureCalls) -> list[Check]:
    target = azure.target
    dr_id = dr_redis_database_id(target)
    if not target.redis_database_id or not dr_id:
        return [Check("online-store", FAIL, "the stack exports no Managed Redis database")]
    database = azure.redis_database(dr_id)
    if database is None:
        return [Check("online-store", FAIL, f"DR database {dr_id.split('/')[-3]} not found in {target.dr_region}")]
    links = {str(link.get("id")).lower(): link.get("state")
             for link in (database.get("geoReplication") or {}).get("linkedDatabases") or []}
    state = links.get(target.redis_database_id.lower())
    if state == "Linked":
        return [Check("online-store", OK, f"{dr_id.split('/')[-3]} is linked to the primary (active geo-replication)")]
    if state in ("Linking", "Unlinking"):
        return [Check("online-store", WARN, f"geo-replication link is {state}")]
    return [Check("online-store", FAIL, f"the DR database is not linked to the primary (link state {state or 'none'})")]


def check_images(azure: AzureCalls) -> list[Check]:
    target = azure.target
    if not target.registry:
        return [Check("images", FAIL, "the stack exports no container registry")]
    replication = azure.registry_replication(target.resource_group, target.registry, target.replication_name)
    if replication is None:
        return [Check("images", FAIL, f"{target.registry} has no geo-replica in {target.dr_region}")]
    status = (replication.get("status") or {}).get("displayStatus")
    if replication.get("provisioningState") == "Succeeded" and status in (None, "Ready"):
        return [Check("images", OK, f"{target.registry} geo-replica in {target.dr_region} is ready")]
    return [Check("images", WARN, f"{target.registry} geo-replica in {target.dr_region} is "
                                  f"{replication.get('provisioningState')} ({status})")]


def collect_status(azure: AzureCalls) -> list[Check]:
    target = azure.target
    return [
        *_guarded("database", lambda: check_database(azure)),
        *_guarded("artifacts", lambda: check_object_replication(
            azure, "artifacts", target.artifact_account, target.artifact_replica_account)),
        *_guarded("features", lambda: check_object_replication(
            azure, "features", target.feature_account, target.feature_replica_account)),
        *_guarded("online-store", lambda: check_online_store(azure)),
        *_guarded("images", lambda: check_images(azure)),
    ]
