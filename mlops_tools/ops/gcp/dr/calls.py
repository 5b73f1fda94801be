"""The GCP calls the DR runbook makes, each named once, through Google's API client (googleapiclient) with the
discovery documents it ships (no discovery request at run time).

Credentials: the operator's Application Default Credentials (`gcloud auth application-default login`, a
workload identity); the runbook holds no secret. With `--endpoint-url` (a local emulator or the tests' server)
every service is asked at that URL without credentials. Throttling (429, and 503 the APIs answer when
overloaded) is retried here after the `Retry-After` the API sends, with an injectable sleep.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable, Optional

from googleapiclient.errors import HttpError

from mlops_tools.ops.gcp.dr.target import APP_PROFILE, DR_CLUSTER_SUFFIX, GcpTarget

LAG_METRIC = "cloudsql.googleapis.com/database/replication/replica_lag"
LAG_WINDOW = dt.timedelta(minutes=10)
RETRIES = 5
RECORD_TTL_SECONDS = 60  # as the tracking component creates the record
SERVICES = {"sql": ("sqladmin", "v1"), "dns": ("dns", "v1"), "monitoring": ("monitoring", "v3"),
            "transfer": ("storagetransfer", "v1"), "bigtable": ("bigtableadmin", "v2"),
            "registry": ("artifactregistry", "v1")}


class GcpCalls:
    def __init__(self, target: GcpTarget, endpoint_url: Optional[str], now: Callable[[], dt.datetime],
                 sleep: Callable[[float], None] = time.sleep):
        self.target, self.now, self.sleep = target, now, sleep
        self._endpoint, self._services = endpoint_url, {}
        self._credentials = None

    def service(self, kind: str) -> Any:
        if kind not in self._services:
            import httplib2
            from googleapiclient.discovery import build

            name, version = SERVICES[kind]
            if self._endpoint:
                self._services[kind] = build(name, version, http=httplib2.Http(), static_discovery=True,
                                             client_options={"api_endpoint": self._endpoint.rstrip("/") + "/"})
            else:
                if self._credentials is None:
                    import google.auth

                    self._credentials, _ = google.auth.default(
                        scopes=["https://www.googleapis.com/auth/cloud-platform"])
                self._services[kind] = build(name, version, credentials=self._credentials, static_discovery=True)
        return self._services[kind]

    def execute(self, request: Any) -> dict[str, Any]:
        """Run one request; on 429/503 wait what the API asks (Retry-After, else 2^n s) and try again."""
        for attempt in range(RETRIES + 1):
            try:
                return request.execute() or {}
            except HttpError as error:
                if error.resp.status not in (429, 503) or attempt == RETRIES:
                    raise
                retry_after = error.resp.get("retry-after")
                self.sleep(float(retry_after) if retry_after and retry_after.isdigit() else 2.0 ** attempt)
        raise AssertionError("unreachable")

    def get_or_none(self, request: Any) -> Optional[dict[str, Any]]:
        try:
            return self.execute(request)
        except HttpError as error:
            if error.resp.status == 404:
                return None
            raise

    # --- Cloud SQL ---------------------------------------------------------------------------------

    def instance(self, name: str) -> Optional[dict[str, Any]]:
        return self.get_or_none(self.service("sql").instances().get(project=self.target.project, instance=name))

    def promote(self, name: str) -> dict[str, Any]:
        return self.execute(self.service("sql").instances().promoteReplica(project=self.target.project, instance=name))

    def enable_backups(self, name: str) -> dict[str, Any]:
        """A promoted replica serves writes: daily backups, point-in-time recovery and a zone standby, like the primary."""
        return self.execute(self.service("sql").instances().patch(project=self.target.project, instance=name, body={
            "settings": {"availabilityType": "REGIONAL", "backupConfiguration": {
                "enabled": True, "pointInTimeRecoveryEnabled": True, "startTime": "03:00"}}}))

    def operation(self, name: str) -> dict[str, Any]:
        return self.execute(self.service("sql").operations().get(project=self.target.project, operation=name))

    def running_operations(self, instance: str, kind: str) -> list[dict[str, Any]]:
        """Operations of `kind` on `instance` not DONE yet (what a crashed run left behind)."""
        answer = self.execute(self.service("sql").operations().list(project=self.target.project, instance=instance))
        return [op for op in answer.get("items", []) if op.get("operationType") == kind and op.get("status") != "DONE"]

    def replica_lag_seconds(self, instance: str) -> Optional[float]:
        end = self.now()
        answer = self.execute(self.service("monitoring").projects().timeSeries().list(
            name=f"projects/{self.target.project}",
            filter=f'metric.type = "{LAG_METRIC}" AND resource.labels.database_id = "{self.target.project}:{instance}"',
            interval_startTime=(end - LAG_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ"),
            interval_endTime=end.strftime("%Y-%m-%dT%H:%M:%SZ"), view="FULL"))
        points = [point for series in answer.get("timeSeries", []) for point in series.get("points", [])]
        if not points:
            return None
        newest = max(points, key=lambda point: point["interval"]["endTime"])
        value = newest["value"]
        return float(value.get("doubleValue", value.get("int64Value", 0)))

    # --- Cloud DNS ---------------------------------------------------------------------------------

    def record(self) -> Optional[dict[str, Any]]:
        answer = self.execute(self.service("dns").resourceRecordSets().list(
            project=self.target.project, managedZone=self.target.zone, name=self.target.record_name, type="A"))
        sets = answer.get("rrsets", [])
        return sets[0] if sets else None

    def point_record_at(self, current: Optional[dict[str, Any]], address: str) -> dict[str, Any]:
        """One Cloud DNS change: delete the record as it is now, add it with the new address (atomic)."""
        body: dict[str, Any] = {"additions": [{"name": self.target.record_name, "type": "A",
                                               "ttl": RECORD_TTL_SECONDS, "rrdatas": [address]}]}
        if current:
            body["deletions"] = [current]
        return self.execute(self.service("dns").changes().create(
            project=self.target.project, managedZone=self.target.zone, body=body))

    def change(self, change_id: str) -> dict[str, Any]:
        return self.execute(self.service("dns").changes().get(
            project=self.target.project, managedZone=self.target.zone, changeId=change_id))

    # --- replication of buckets, online store, images ---------------------------------------------

    def transfer_job(self, job: str) -> Optional[dict[str, Any]]:
        return self.get_or_none(self.service("transfer").transferJobs().get(jobName=job, projectId=self.target.project))

    def _instance_path(self) -> str:
        return f"projects/{self.target.project}/instances/{self.target.bigtable_instance}"

    def cluster(self, suffix: str = DR_CLUSTER_SUFFIX) -> Optional[dict[str, Any]]:
        return self.get_or_none(self.service("bigtable").projects().instances().clusters().get(
            name=f"{self._instance_path()}/clusters/{self.target.cluster_id(suffix)}"))

    def app_profile(self) -> Optional[dict[str, Any]]:
        return self.get_or_none(self.service("bigtable").projects().instances().appProfiles().get(
            name=f"{self._instance_path()}/appProfiles/{APP_PROFILE}"))

    def route_app_profile(self, cluster_ids: list[str]) -> dict[str, Any]:
        """Feast's reads and writes go to `cluster_ids` (empty: any cluster, Bigtable's automatic failover)."""
        return self.execute(self.service("bigtable").projects().instances().appProfiles().patch(
            name=f"{self._instance_path()}/appProfiles/{APP_PROFILE}", updateMask="multi_cluster_routing_use_any",
            ignoreWarnings=True, body={"multiClusterRoutingUseAny": {"clusterIds": cluster_ids}}))

    def bigtable_operation(self, name: str) -> dict[str, Any]:
        return self.execute(self.service("bigtable").operations().get(name=name))

    def repository(self, url: str) -> Optional[dict[str, Any]]:
        """`<region>-docker.pkg.dev/<project>/<repository>` -> the Artifact Registry repository."""
        host, project, repository = url.split("/")[:3]
        location = host[: -len("-docker.pkg.dev")]
        return self.get_or_none(self.service("registry").projects().locations().repositories().get(
            name=f"projects/{project}/locations/{location}/repositories/{repository}"))


def private_ip(instance: Optional[dict[str, Any]]) -> Optional[str]:
    for address in (instance or {}).get("ipAddresses", []) or []:
        if address.get("type") == "PRIVATE":
            return address.get("ipAddress")
    return None


def master_of(instance: Optional[dict[str, Any]]) -> Optional[str]:
    """The instance a read replica copies (the API writes `project:instance`)."""
    master = (instance or {}).get("masterInstanceName")
    return master.split(":")[-1] if master else None


def is_replica(instance: Optional[dict[str, Any]]) -> bool:
    return (instance or {}).get("instanceType") == "READ_REPLICA_INSTANCE"


def describe_failure(error: Exception) -> str:
    if isinstance(error, HttpError):
        return f"Google API refused: {error.resp.status} {error.reason or ''}".rstrip()
    return f"Google API call failed: {error}"
