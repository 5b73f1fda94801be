"""The AWS calls the DR runbook makes (RDS, CloudWatch, Route 53), each named once, and how to read an RDS instance."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Optional

from botocore.exceptions import ClientError

from mlops_tools.ops.aws.clients import Clients, error_code
from mlops_tools.ops.aws.dr.target import LAG_WINDOW, RECORD_TTL_SECONDS, DrTarget, arn_region
from mlops_tools.ops.runbook import log

class Aws:
    """The calls the runbook makes, grouped so each one is named once."""

    def __init__(self, target: DrTarget, clients: Clients, now: Callable[[], dt.datetime]):
        self.target = target
        self.clients = clients
        self.now = now

    def db(self, region: str, identifier: str) -> Optional[dict[str, Any]]:
        try:
            found = self.clients("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
        except ClientError as error:
            if error_code(error) in ("DBInstanceNotFound", "DBInstanceNotFoundFault"):
                return None
            raise
        instances = found.get("DBInstances", [])
        return instances[0] if instances else None

    def latest_metric(
        self,
        region: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        statistic: str,
        window: dt.timedelta,
    ) -> Optional[float]:
        """Newest datapoint of a CloudWatch metric in the window, or None when there is none."""
        end = self.now()
        answer = self.clients("cloudwatch", region).get_metric_statistics(
            Namespace=namespace,
            MetricName=metric,
            Dimensions=[{"Name": name, "Value": value} for name, value in sorted(dimensions.items())],
            StartTime=end - window,
            EndTime=end + dt.timedelta(seconds=1),
            Period=60,
            Statistics=[statistic],
        )
        points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
        return float(points[-1][statistic]) if points else None

    def replica_lag_seconds(self, region: str, identifier: str) -> Optional[float]:
        return self.latest_metric(
            region, "AWS/RDS", "ReplicaLag", {"DBInstanceIdentifier": identifier}, "Maximum", LAG_WINDOW
        )

    def record_value(self) -> Optional[str]:
        answer = self.clients("route53", "us-east-1").list_resource_record_sets(
            HostedZoneId=self.target.record_zone_id,
            StartRecordName=self.target.record_name,
            StartRecordType="CNAME",
            MaxItems="1",
        )
        for record in answer.get("ResourceRecordSets", []):
            if record["Name"].lower() == self.target.record_name.lower() and record["Type"] == "CNAME":
                values = [value["Value"].rstrip(".") for value in record.get("ResourceRecords", [])]
                return values[0] if values else None
        return None

    def point_record_at(self, address: str) -> str:
        route53 = self.clients("route53", "us-east-1")
        change = route53.change_resource_record_sets(
            HostedZoneId=self.target.record_zone_id,
            ChangeBatch={
                "Comment": f"mlops dr: tracking database -> {address}",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": self.target.record_name,
                            "Type": "CNAME",
                            "TTL": RECORD_TTL_SECONDS,
                            "ResourceRecords": [{"Value": address}],
                        },
                    }
                ],
            },
        )["ChangeInfo"]
        log.info("Route 53 change %s submitted (%s)", change["Id"], change["Status"])
        return change["Id"]

    def change_in_sync(self, change_id: str) -> bool:
        """Route 53 reports INSYNC once every authoritative server answers with the change."""
        return self.clients("route53", "us-east-1").get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC"


def endpoint_address(instance: Optional[dict[str, Any]]) -> Optional[str]:
    if not instance:
        return None
    address = (instance.get("Endpoint") or {}).get("Address")
    return address.rstrip(".") if address else None


def replication_source(instance: dict[str, Any]) -> Optional[str]:
    return instance.get("ReadReplicaSourceDBInstanceIdentifier") or None


def same_instance(reference: Optional[str], region: str, identifier: str) -> bool:
    """A replica names its source by id (same region) or by ARN (cross-region)."""
    if not reference:
        return False
    if reference.startswith("arn:"):
        return arn_region(reference) == region and reference.split(":")[-1] == identifier
    return reference == identifier


def tags_of(instance: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("TagList", []) or []}


# --------------------------------------------------------------------------- status
