"""A fake Azure Resource Manager for the runbook tests, answering with the REST API's documented shapes.

What it models (Microsoft.DBforPostgreSQL 'promote to primary server', Azure Monitor metrics, object
replication policies, Managed Redis geo-replication, ACR replications):
- a PATCH that starts a long-running operation answers 202 with `Azure-AsyncOperation`, `Location` and
  `Retry-After`; the operation resource reports InProgress, then Succeeded or Failed (with an `error`);
- a throttled request answers 429 with `Retry-After` and the ARM error body;
- a missing resource answers 404 `ResourceNotFound`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from azure.core.pipeline.transport import RequestsTransport

SUB = "00000000-0000-4000-8000-000000000000"
REGION, DR_REGION = "westeurope", "northeurope"
GROUP, DR_GROUP = "mlops-azure-prod-rg", "mlops-azure-prod-dr-rg"
PRIMARY, REPLICA = "mlops-azure-prod-tracking", "mlops-azure-prod-tracking-dr"
WRITER = "mlops-azure-prod-tracking-db"
ARTIFACTS, ARTIFACTS_DR = "mlopsazureprodartief3ea8", "mlopsazureprodartiddc133"
FEATURES, FEATURES_DR = "mlopsazureprodfeat194916", "mlopsazureprodfeated8695"
REGISTRY = "mlopsazureprodfa1352"
PG = "providers/Microsoft.DBforPostgreSQL"


def server_id(group: str, name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/{PG}/flexibleServers/{name}"


def redis_id(group: str, cluster: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Cache/redisEnterprise/{cluster}/databases/default"


PRIMARY_REDIS, DR_REDIS = redis_id(GROUP, "mlops-azure-prod-features"), redis_id(DR_GROUP, "mlops-azure-prod-features-dr")


def prod_outputs() -> dict[str, Any]:
    """The azure-prod stack's outputs as the preview renders them (the runbook's input)."""
    return {
        "cloud": "azure", "environment": "prod", "region": REGION, "resourceGroup": GROUP,
        "artifactBucket": ARTIFACTS, "trackingDbInstanceId": PRIMARY,
        "featureRegistryPath": f"https://{FEATURES}.blob.core.windows.net/feast/registry/registry.db",
        "modelImageRepositoryUrl": f"{REGISTRY}.azurecr.io/mlops-azure-prod/model-serving",
        "onlineStoreTable": PRIMARY_REDIS,
        "trackingDbEndpointRecord": {"name": f"{WRITER}.writer.postgres.database.azure.com",
                                     "zoneId": f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/"
                                               "Microsoft.Network/privateDnsZones/x.private.postgres.database.azure.com"},
        "dr": {"enabled": True, "region": DR_REGION, "rpoMinutes": 15, "rtoMinutes": 60,
               "dbReplicaId": REPLICA, "dbReplicaArn": server_id(DR_GROUP, REPLICA),
               "artifactReplicaBucket": ARTIFACTS_DR, "featureReplicaBucket": FEATURES_DR,
               "imageReplicaRegion": DR_REGION, "onlineStoreReplicaRegion": DR_REGION},
    }


@dataclass
class Server:
    group: str
    location: str
    role: str = "Primary"
    source: Optional[str] = None
    state: str = "Ready"
    replication_state: Optional[str] = None


@dataclass
class Arm:
    """The state behind the fake API; tests set it up and read it back."""

    servers: dict[str, Server] = field(default_factory=lambda: {
        PRIMARY: Server(GROUP, REGION),
        REPLICA: Server(DR_GROUP, DR_REGION, "GeoAsyncReplica", PRIMARY, replication_state="Active")})
    writer: list[str] = field(default_factory=lambda: [PRIMARY])
    lag: dict[str, Optional[float]] = field(default_factory=lambda: {REPLICA: 12.0})
    policies: dict[str, list[str]] = field(default_factory=lambda: {ARTIFACTS: [ARTIFACTS_DR], FEATURES: [FEATURES_DR]})
    redis_link: Optional[str] = "Linked"
    registry_replica: bool = True
    throttle: dict[str, int] = field(default_factory=dict)  # path fragment -> how many 429s before answering
    promotion_polls: int = 2  # InProgress answers before the operation ends
    promotion_fails: int = 0  # how many promotions end Failed (half-way: the server stays a replica)
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # -- JSON shapes --------------------------------------------------------------------------------

    def server_json(self, name: str) -> dict[str, Any]:
        server = self.servers[name]
        replica: dict[str, Any] = {"role": server.role, "capacity": 5}
        if server.replication_state:
            replica["replicationState"] = server.replication_state
        properties: dict[str, Any] = {"state": server.state, "version": "16", "replica": replica,
                                      "fullyQualifiedDomainName": f"{name}.postgres.database.azure.com"}
        if server.source:
            properties["sourceServerResourceId"] = server_id(self.servers[server.source].group, server.source)
        return {"id": server_id(server.group, name), "name": name, "location": server.location,
                "type": "Microsoft.DBforPostgreSQL/flexibleServers", "properties": properties}

    def switchover(self, name: str) -> None:
        """'Promote to primary server': roles swap; the writer endpoint follows the new primary."""
        old = self.servers[name].source
        self.servers[name] = Server(self.servers[name].group, self.servers[name].location)
        if old and old in self.servers:
            self.servers[old] = Server(self.servers[old].group, self.servers[old].location, "GeoAsyncReplica", name,
                                       replication_state="Active")
        self.writer = [name]

    # -- routing ------------------------------------------------------------------------------------

    def route(self, method: str, path: str, query: dict, body: Optional[dict]) -> tuple[int, Any, dict[str, str]]:
        path = re.sub("/+", "/", path)
        for fragment, left in self.throttle.items():
            if fragment in path and left > 0:
                self.throttle[fragment] = left - 1
                return 429, {"error": {"code": "TooManyRequests", "message": "Rate limit exceeded."}}, \
                    {"Retry-After": "7"}
        if "/azureAsyncOperation/" in path:
            return self.operation(path.rsplit("/", 1)[1])
        # ARM treats path segments case-insensitively (the SDK asks for `virtualendpoints`)
        match = re.search(r"/flexibleServers/([^/]+)(/virtualEndpoints/([^/]+))?(/providers/Microsoft.Insights/metrics)?$",
                          path, re.IGNORECASE)
        if match:
            name = match.group(1)
            if name not in self.servers:
                return not_found(path)
            if match.group(4):
                return 200, self.metrics(name), {}
            if match.group(2):
                if match.group(3) != WRITER:
                    return not_found(path)
                return 200, {"id": path, "name": WRITER, "properties": {
                    "endpointType": "ReadWrite", "members": list(self.writer),
                    "virtualEndpoints": [f"{WRITER}.writer.postgres.database.azure.com",
                                         f"{WRITER}.reader.postgres.database.azure.com"]}}, {}
            if method == "PATCH":
                return self.start_promotion(name, body or {})
            return 200, self.server_json(name), {}
        match = re.search(r"/storageAccounts/([^/]+)/objectReplicationPolicies$", path, re.IGNORECASE)
        if match:
            return 200, {"value": [{
                "id": f"{path}/{dest}", "name": f"policy-{dest}",
                "type": "Microsoft.Storage/storageAccounts/objectReplicationPolicies",
                "properties": {"policyId": f"policy-{dest}", "sourceAccount": match.group(1), "destinationAccount": dest,
                               "rules": [{"ruleId": "rule-1", "sourceContainer": "mlflow",
                                          "destinationContainer": "mlflow"}]}}
                for dest in self.policies.get(match.group(1), [])]}, {}
        if "/redisEnterprise/" in path and path.endswith("/databases/default"):
            if DR_REDIS not in path or self.redis_link is None:
                return not_found(path)
            return 200, {"id": DR_REDIS, "name": "default", "type": "Microsoft.Cache/redisEnterprise/databases",
                         "properties": {"provisioningState": "Succeeded", "resourceState": "Running",
                                        "geoReplication": {"groupNickname": "mlops-azure-prod-features",
                                                           "linkedDatabases": [
                                                               {"id": PRIMARY_REDIS, "state": self.redis_link},
                                                               {"id": DR_REDIS, "state": "Linked"}]}}}, {}
        if "/replications/" in path:
            if not self.registry_replica or not path.endswith(f"/replications/{DR_REGION}"):
                return not_found(path)
            return 200, {"id": path, "name": DR_REGION, "location": DR_REGION, "properties": {
                "provisioningState": "Succeeded", "regionEndpointEnabled": True, "zoneRedundancy": "Enabled",
                "status": {"displayStatus": "Ready", "message": "", "timestamp": "2026-12-05T05:00:00Z"}}}, {}
        return not_found(path)

    def metrics(self, name: str) -> dict[str, Any]:
        lag = self.lag.get(name)
        data = [] if lag is None else [{"timeStamp": "2026-12-05T05:58:00Z", "maximum": lag - 1},
                                       {"timeStamp": "2026-12-05T05:59:00Z", "maximum": lag}]
        return {"cost": 0, "timespan": "2026-12-05T05:50:00Z/2026-12-05T06:00:00Z", "interval": "PT1M",
                "namespace": "Microsoft.DBforPostgreSQL/flexibleServers", "resourceregion": DR_REGION,
                "value": [{"id": "metric", "type": "Microsoft.Insights/metrics", "errorCode": "Success",
                           "name": {"value": "physical_replication_delay_in_seconds",
                                    "localizedValue": "Physical Replication Delay In Seconds"},
                           "unit": "Seconds", "timeseries": [{"metadatavalues": [], "data": data}]}]}

    def start_promotion(self, name: str, body: dict) -> tuple[int, Any, dict[str, str]]:
        replica = (body.get("properties") or {}).get("replica") or {}
        if replica.get("role") != "Primary" or replica.get("promoteMode") != "Switchover":
            return 400, {"error": {"code": "InvalidParameterValue", "message": f"unexpected body {body}"}}, {}
        server = self.servers[name]
        server.state, server.replication_state = "Updating", "Updating"
        operation = f"op-{next(self._ids)}"
        self.operations[operation] = {"server": name, "left": self.promotion_polls, "option": replica["promoteOption"]}
        base = f"/subscriptions/{SUB}/{PG}/locations/{server.location}"
        return 202, None, {"Azure-AsyncOperation": f"{{host}}{base}/azureAsyncOperation/{operation}?api-version=x",
                           "Location": f"{{host}}{base}/operationResults/{operation}?api-version=x",
                           "Retry-After": "10"}

    def operation(self, operation: str) -> tuple[int, Any, dict[str, str]]:
        state = self.operations[operation]
        if state["left"] > 0:
            state["left"] -= 1
            return 200, {"name": operation, "status": "InProgress", "startTime": "2026-12-05T06:00:00Z"}, \
                {"Retry-After": "10"}
        server = self.servers[state["server"]]
        if self.promotion_fails > 0:
            self.promotion_fails -= 1
            server.state, server.replication_state = "Ready", "Active"  # the service rolled the promotion back
            return 200, {"name": operation, "status": "Failed", "error": {
                "code": "InternalServerError", "message": "An unexpected error occurred while promoting the replica."}}, {}
        self.switchover(state["server"])
        return 200, {"name": operation, "status": "Succeeded", "startTime": "2026-12-05T06:00:00Z",
                     "endTime": "2026-12-05T06:04:00Z"}, {}


def not_found(path: str) -> tuple[int, Any, dict[str, str]]:
    return 404, {"error": {"code": "ResourceNotFound", "message": f"The Resource '{path}' was not found."}}, {}


class NoSleepTransport(RequestsTransport):
    """The SDK's own HTTP transport; its retry and LRO-polling sleeps are recorded instead of slept."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, duration: float) -> None:
        self.slept.append(duration)
