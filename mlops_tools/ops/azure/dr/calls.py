"""The Azure calls the DR runbook makes, each named once, through the Azure SDK's management clients.

Credentials: the operator's own (`DefaultAzureCredential`: `az login`, environment, managed identity); the
runbook holds no secret. With `--endpoint-url` (a local emulator or the tests' server) the clients talk to that
URL with a placeholder bearer token instead, since nothing there checks one.
Throttling (429 + Retry-After) and long-running operations (Azure-AsyncOperation / Location polling) are the
SDK's own retry and polling policies; both sleep through the transport, which the tests replace.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline.policies import SansIOHTTPPolicy

from mlops_tools.ops.azure.dr.target import AzureTarget, server_id

LAG_METRIC = "physical_replication_delay_in_seconds"  # reported by a read replica, in seconds
LAG_WINDOW = dt.timedelta(minutes=10)
POLL_SECONDS = 10  # LRO polling when the service sends no Retry-After


class _PlaceholderToken(SansIOHTTPPolicy):
    """Local endpoints only: a bearer header so the request looks like ARM traffic; nothing checks it."""

    def on_request(self, request) -> None:
        request.http_request.headers["Authorization"] = "Bearer local-endpoint"


class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: Any):  # never called: the placeholder policy replaces it
        raise RuntimeError("no credential for a local endpoint")


def _plain(model: Any) -> dict[str, Any]:
    """SDK models of every generation as the REST API's JSON (camelCase, `properties` flattened away)."""
    if model is None:
        return {}
    if hasattr(model, "serialize"):  # msrest-generation models: serialize() is the REST JSON, read-only fields too
        data = model.serialize(keep_readonly=True)
    else:  # new-generation models are the REST JSON already
        data = model.as_dict() if hasattr(model, "as_dict") else dict(model)
    return {**data, **(data.pop("properties", None) or {})}


class AzureCalls:
    """The management-plane calls of one run, grouped so each is named once."""

    def __init__(self, target: AzureTarget, endpoint_url: Optional[str], now: Callable[[], dt.datetime],
                 transport: Any = None):
        self.target = target
        self.now = now
        options: dict[str, Any] = {"polling_interval": POLL_SECONDS}
        if transport is not None:
            options["transport"] = transport
        if endpoint_url:
            credential: Any = _NoCredential()
            options.update(base_url=endpoint_url.rstrip("/"), authentication_policy=_PlaceholderToken())
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._credential, self._options, self._clients = credential, options, {}

    def _client(self, kind: str) -> Any:
        if kind not in self._clients:
            if kind == "postgres":
                from azure.mgmt.postgresqlflexibleservers import PostgreSQLManagementClient as client
            elif kind == "monitor":
                from azure.mgmt.monitor import MonitorManagementClient as client
            elif kind == "redis":
                from azure.mgmt.redisenterprise import RedisEnterpriseManagementClient as client
            elif kind == "storage":
                from azure.mgmt.storage import StorageManagementClient as client
            else:
                from azure.mgmt.containerregistry import ContainerRegistryManagementClient as client
            self._clients[kind] = client(self._credential, self.target.subscription, **self._options)
        return self._clients[kind]

    # --- database --------------------------------------------------------------------------------

    def server(self, group: str, name: str) -> Optional[dict[str, Any]]:
        try:
            return _plain(self._client("postgres").servers.get(group, name))
        except ResourceNotFoundError:
            return None

    def promote(self, group: str, name: str, option: str) -> dict[str, Any]:
        """'Promote to primary server' (switchover): the writer virtual endpoint follows the new primary."""
        poller = self._client("postgres").servers.begin_update(group, name, {"properties": {"replica": {
            "role": "Primary", "promoteMode": "Switchover", "promoteOption": option}}})
        return _plain(poller.result())

    def writer_members(self, group: str, server: str) -> Optional[list[str]]:
        """The servers behind the writer endpoint, asked through `server` (any member of the replication set)."""
        try:
            endpoint = self._client("postgres").virtual_endpoints.get(group, server, self.target.writer_endpoint)
        except ResourceNotFoundError:
            return None
        return list(_plain(endpoint).get("members") or [])

    def replica_lag_seconds(self, group: str, name: str) -> Optional[float]:
        """Largest `physical_replication_delay_in_seconds` of the replica in the last 10 minutes (Azure Monitor)."""
        end = self.now()
        timespan = f"{(end - LAG_WINDOW).strftime('%Y-%m-%dT%H:%M:%SZ')}/{end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        answer = _plain(self._client("monitor").metrics.list(
            server_id(self.target.subscription, group, name), timespan=timespan, interval="PT1M",
            metricnames=LAG_METRIC, aggregation="Maximum"))
        points = [point for metric in answer.get("value", []) for series in metric.get("timeseries", []) or []
                  for point in series.get("data", []) or [] if point.get("maximum") is not None]
        if not points:
            return None
        return float(max(points, key=lambda point: point["timeStamp"])["maximum"])

    # --- online store, storage, registry ---------------------------------------------------------

    def redis_database(self, database_id: str) -> Optional[dict[str, Any]]:
        _, group, cluster, database = _redis_parts(database_id)
        try:
            return _plain(self._client("redis").databases.get(group, cluster, database))
        except ResourceNotFoundError:
            return None

    def force_unlink(self, database_id: str, unlink_ids: list[str]) -> None:
        """Drop unreachable members from the geo-replication group so the DR database serves on its own."""
        _, group, cluster, database = _redis_parts(database_id)
        self._client("redis").databases.begin_force_unlink(group, cluster, database, {"ids": unlink_ids}).result()

    def replication_policies(self, group: str, account: str) -> list[dict[str, Any]]:
        return [_plain(policy) for policy in self._client("storage").object_replication_policies.list(group, account)]

    def registry_replication(self, group: str, registry: str, name: str) -> Optional[dict[str, Any]]:
        try:
            return _plain(self._client("registry").replications.get(group, registry, name))
        except ResourceNotFoundError:
            return None


def _redis_parts(database_id: str) -> tuple[str, str, str, str]:
    """(subscription, resource group, cluster, database) of a Managed Redis database id."""
    parts = database_id.strip("/").split("/")
    return parts[1], parts[3], parts[7], parts[9]


def dr_redis_database_id(target: AzureTarget) -> Optional[str]:
    """The DR member of the online store's geo-replication group: the stack names it `<primary cluster>-dr` in
    the DR resource group (stacks/azure.py, `redis_geo_group`)."""
    if not target.redis_database_id:
        return None
    parts = target.redis_database_id.strip("/").split("/")
    return (f"/subscriptions/{parts[1]}/resourceGroups/{target.dr_resource_group}/providers/Microsoft.Cache/"
            f"redisEnterprise/{parts[7]}-dr/databases/{parts[9]}")
