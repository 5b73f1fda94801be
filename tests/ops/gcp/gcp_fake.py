"""A fake of the Google APIs the GCP runbook calls (Cloud SQL Admin v1, Cloud DNS v1, Monitoring v3, Storage
Transfer v1, Bigtable Admin v2, Artifact Registry v1), answering with their documented JSON:
- Cloud SQL writes (`promoteReplica`, `patch`) return an Operation (PENDING); `operations.get` reports RUNNING,
  then DONE, with `error.errors[]` when it failed; `operations.list?instance=` lists them;
- a Cloud DNS change must delete the record set exactly as it is (else 412 conditionNotMet) and is `pending`
  before `done`; the Bigtable app-profile update is a long-running operation;
- throttling answers 429 RESOURCE_EXHAUSTED with Retry-After; a missing resource 404.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Optional

PROJECT, REGION, DR_REGION = "acme-ml-prod", "europe-west4", "europe-west1"
PRIMARY, REPLICA = "mlops-gcp-prod-tracking", "mlops-gcp-prod-tracking-dr"
PRIMARY_IP, REPLICA_IP = "10.104.0.3", "10.105.0.3"
ZONE, RECORD = "mlops-gcp-prod-internal", "tracking-db.prod.mlops.internal."
BIGTABLE = "mlops-gcp-prod-features"
DR_CLUSTER = f"{BIGTABLE}-dr"
JOBS = {"artifacts": "transferJobs/619127107418567138", "features": "transferJobs/997180207322163597"}
REPOS = {"model-serving": f"{DR_REGION}-docker.pkg.dev/{PROJECT}/mlops-gcp-prod-model-serving",
         "training": f"{DR_REGION}-docker.pkg.dev/{PROJECT}/mlops-gcp-prod-training"}


def prod_outputs() -> dict[str, Any]:
    """The gcp-prod stack's outputs as the preview renders them (the runbook's input)."""
    return {
        "cloud": "gcp", "environment": "prod", "region": REGION, "project": PROJECT,
        "trackingDbInstanceId": PRIMARY, "onlineStoreInstance": BIGTABLE,
        "trackingDbEndpointRecord": {"name": RECORD.rstrip("."), "zoneId": ZONE},
        "dr": {"enabled": True, "region": DR_REGION, "rpoMinutes": 15, "rtoMinutes": 60, "dbReplicaId": REPLICA,
               "dbReplicaPrivateIp": REPLICA_IP, "transferJobs": dict(JOBS), "imageRepositoryUrls": dict(REPOS),
               "onlineStoreReplicaZone": f"{DR_REGION}-a"},
    }


@dataclass
class Instance:
    region: str
    ip: str
    master: Optional[str] = None
    state: str = "RUNNABLE"
    backups: bool = True
    availability: str = "REGIONAL"


def error(code: int, status: str, message: str, reason: str = "") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status,
                      "errors": [{"domain": "global", "reason": reason or status, "message": message}]}}


@dataclass
class Google:
    instances: dict[str, Instance] = field(default_factory=lambda: {
        PRIMARY: Instance(REGION, PRIMARY_IP),
        REPLICA: Instance(DR_REGION, REPLICA_IP, master=PRIMARY, backups=False, availability="ZONAL")})
    record: list[str] = field(default_factory=lambda: [PRIMARY_IP])
    lag: dict[str, Optional[float]] = field(default_factory=lambda: {REPLICA: 12.0})
    jobs: dict[str, str] = field(default_factory=lambda: {job: "ENABLED" for job in JOBS.values()})
    cluster_state: Optional[str] = "READY"
    routing: list[str] = field(default_factory=list)  # multi-cluster routing over these (empty: any)
    throttle: dict[str, int] = field(default_factory=dict)
    operation_polls: int = 2
    promotion_fails: int = 0
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def instance_json(self, name: str) -> dict[str, Any]:
        instance = self.instances[name]
        body: dict[str, Any] = {
            "kind": "sql#instance", "name": name, "project": PROJECT, "region": instance.region,
            "state": instance.state, "databaseVersion": "POSTGRES_16",
            "instanceType": "READ_REPLICA_INSTANCE" if instance.master else "CLOUD_SQL_INSTANCE",
            "ipAddresses": [{"type": "PRIVATE", "ipAddress": instance.ip}],
            "settings": {"tier": "db-custom-2-7680", "availabilityType": instance.availability,
                         "backupConfiguration": {"enabled": instance.backups,
                                                 "pointInTimeRecoveryEnabled": instance.backups}}}
        if instance.master:
            body["masterInstanceName"] = f"{PROJECT}:{instance.master}"
        return body

    def promote(self, name: str) -> None:
        self.instances[name].master = None

    def start(self, name: str, kind: str) -> dict[str, Any]:
        operation = f"op-{next(self._ids)}"
        self.operations[operation] = {"name": operation, "operationType": kind, "targetId": name,
                                      "left": self.operation_polls}
        return self.operation_json(operation, "PENDING")

    def operation_json(self, operation: str, status: str, errors: Optional[list] = None) -> dict[str, Any]:
        state = self.operations[operation]
        body = {"kind": "sql#operation", "name": operation, "operationType": state["operationType"],
                "status": status, "targetId": state["targetId"], "targetProject": PROJECT}
        if errors:
            body["error"] = {"kind": "sql#operationErrors", "errors": errors}
        return body

    def poll(self, operation: str) -> dict[str, Any]:
        state = self.operations[operation]
        if state.get("result"):
            return state["result"]
        if state["left"] > 0:
            state["left"] -= 1
            return self.operation_json(operation, "RUNNING")
        name = state["targetId"]
        if state["operationType"] == "PROMOTE_REPLICA":
            if self.promotion_fails > 0:
                self.promotion_fails -= 1
                state["result"] = self.operation_json(operation, "DONE", [{
                    "kind": "sql#operationError", "code": "INTERNAL_ERROR",
                    "message": "An internal error occurred while promoting the replica."}])
                return state["result"]
            self.promote(name)
        else:
            self.instances[name].backups, self.instances[name].availability = True, "REGIONAL"
        state["result"] = self.operation_json(operation, "DONE")
        return state["result"]

    def route(self, method: str, path: str, query: dict, body: Optional[dict]) -> tuple[int, Any, dict[str, str]]:
        for fragment, left in self.throttle.items():
            if fragment in path and left > 0:
                self.throttle[fragment] = left - 1
                return 429, error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries'.",
                                  "rateLimitExceeded"), {"Retry-After": "7"}
        if path.startswith(f"/v1/projects/{PROJECT}/"):
            if "/instances/" in path or "/operations" in path:
                return self.sql(method, path, query)
            return self.registry(path)
        if path.startswith(f"/dns/v1/projects/{PROJECT}/managedZones/{ZONE}/"):
            return self.dns(method, path, body or {})
        if path == f"/v3/projects/{PROJECT}/timeSeries":
            database = re.search(r'database_id = "[^:]+:([^"]+)"', query["filter"][0]).group(1)
            lag = self.lag.get(database)
            points = [] if lag is None else [{"interval": {"startTime": "2026-12-05T05:59:00Z", "endTime": "2026-12-05T05:59:00Z"},
                                              "value": {"doubleValue": lag}},
                                             {"interval": {"startTime": "2026-12-05T05:58:00Z", "endTime": "2026-12-05T05:58:00Z"},
                                              "value": {"doubleValue": lag + 5}}]
            return 200, {"timeSeries": [{"metric": {"type": "cloudsql.googleapis.com/database/replication/replica_lag"},
                                         "resource": {"type": "cloudsql_database", "labels": {"database_id": f"{PROJECT}:{database}"}},
                                         "metricKind": "GAUGE", "valueType": "DOUBLE", "points": points}]} if points else {}, {}
        if path.startswith("/v1/transferJobs/"):
            job = path[len("/v1/"):]
            if job not in self.jobs:
                return 404, error(404, "NOT_FOUND", f"{job} not found"), {}
            kind = next(k for k, v in JOBS.items() if v == job)
            return 200, {"name": job, "projectId": PROJECT, "status": self.jobs[job], "replicationSpec": {
                "gcsDataSource": {"bucketName": f"mlops-gcp-prod-{kind}-{PROJECT}"},
                "gcsDataSink": {"bucketName": f"mlops-gcp-prod-{kind}-dr-{PROJECT}"}}}, {}
        if path.startswith("/v2/"):
            return self.bigtable(method, path, body or {})
        return 404, error(404, "NOT_FOUND", f"no route {path}"), {}

    def sql(self, method: str, path: str, query: dict) -> tuple[int, Any, dict[str, str]]:
        match = re.fullmatch(rf"/v1/projects/{PROJECT}/operations(?:/([^/]+))?", path)
        if match:
            if match.group(1):
                return 200, self.poll(match.group(1)), {}
            instance = query.get("instance", [None])[0]
            items = [self.operation_json(op, "DONE" if state.get("result") else "RUNNING")
                     for op, state in self.operations.items() if state["targetId"] == instance]
            return 200, {"kind": "sql#operationsList", "items": items}, {}
        match = re.fullmatch(rf"/v1/projects/{PROJECT}/instances/([^/]+)(/promoteReplica)?", path)
        name = match.group(1) if match else ""
        if name not in self.instances:
            return 404, error(404, "NOT_FOUND", "The Cloud SQL instance does not exist.", "instanceDoesNotExist"), {}
        if match.group(2):
            if not self.instances[name].master:
                return 400, error(400, "FAILED_PRECONDITION", "The instance is not a read replica.", "notReplica"), {}
            return 200, self.start(name, "PROMOTE_REPLICA"), {}
        if method == "PATCH":
            return 200, self.start(name, "UPDATE"), {}
        return 200, self.instance_json(name), {}

    def dns(self, method: str, path: str, body: dict) -> tuple[int, Any, dict[str, str]]:
        current = {"kind": "dns#resourceRecordSet", "name": RECORD, "type": "A", "ttl": 60, "rrdatas": list(self.record)}
        if path.endswith("/rrsets"):
            return 200, {"kind": "dns#resourceRecordSetsListResponse", "rrsets": [current]}, {}
        if path.endswith("/changes") and method == "POST":
            if [d.get("rrdatas") for d in body.get("deletions", [])] != [self.record]:
                return 412, error(412, "FAILED_PRECONDITION", "The resource record set to delete does not match.",
                                  "conditionNotMet"), {}
            self.record = list(body["additions"][0]["rrdatas"])
            change = {"kind": "dns#change", "id": str(len(self.changes) + 1), "status": "pending", **body}
            self.changes.append(change)
            return 200, change, {}
        change = self.changes[int(path.rsplit("/", 1)[1]) - 1]
        return 200, {**change, "status": "done"}, {}

    def bigtable(self, method: str, path: str, body: dict) -> tuple[int, Any, dict[str, str]]:
        instance = f"/v2/projects/{PROJECT}/instances/{BIGTABLE}"
        if path == f"{instance}/clusters/{DR_CLUSTER}" and self.cluster_state:
            return 200, {"name": path[4:], "location": f"projects/{PROJECT}/locations/{DR_REGION}-a",
                         "state": self.cluster_state, "serveNodes": 1, "defaultStorageType": "SSD"}, {}
        if path == f"{instance}/appProfiles/default":
            if method == "PATCH":
                self.routing = list(body["multiClusterRoutingUseAny"].get("clusterIds") or [])
                return 200, {"name": "operations/app-profile-1", "done": False}, {}
            return 200, {"name": path[4:], "etag": "e1", "multiClusterRoutingUseAny": {"clusterIds": self.routing}}, {}
        if path.startswith("/v2/operations/"):
            return 200, {"name": path[4:], "done": True, "response": {}}, {}
        return 404, error(404, "NOT_FOUND", f"{path} not found"), {}

    def registry(self, path: str) -> tuple[int, Any, dict[str, str]]:
        match = re.fullmatch(rf"/v1/projects/{PROJECT}/locations/{DR_REGION}/repositories/([^/]+)", path)
        if match and any(url.endswith("/" + match.group(1)) for url in REPOS.values()):
            return 200, {"name": path[4:], "format": "DOCKER", "mode": "STANDARD_REPOSITORY"}, {}
        return 404, error(404, "NOT_FOUND", f"{path} not found"), {}
