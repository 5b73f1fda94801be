"""Disaster-recovery runbook as code for the AWS prod stack: status, failover, failback.

The stack replicates every data store to a second region (RDS cross-region read replica,
S3 replication, DynamoDB global table replica, ECR registry replication). This module is
the tested procedure around those replicas:

    python -m mlops_tools.ops.aws.dr status   --stack prod [--outputs-file F] [--endpoint-url U] [--json]
    python -m mlops_tools.ops.aws.dr failover --stack prod [--outputs-file F] [--endpoint-url U] [--yes]
    python -m mlops_tools.ops.aws.dr failback --stack prod [--outputs-file F] [--endpoint-url U] [--yes]

Why it is shaped like this:
- Failover calls only the DR region (RDS, CloudWatch) and Route 53: during a regional outage
  the primary region's APIs may not answer, and the procedure must not depend on them.
- Every command inspects the real state first and acts only on what is not done yet, so a
  re-run after an interruption continues, and a re-run after success changes nothing.
- The tracking server reaches its database through a Route 53 private CNAME (stack output
  `trackingDbEndpointRecord`); repointing that record is the whole application switch.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from mlops_tools.ops.aws.clients import (
    EXIT_FAILED,
    EXIT_OK,
    Clients,
    OpsError,
    UsageError,
    check_region,
    configure_logging,
    describe_failure,
    error_code,
    parse_args,
    run_main,
)

log = configure_logging("mlops.dr")

OK, WARN, FAIL = "OK", "WARN", "FAIL"
LAG_WINDOW = dt.timedelta(minutes=10)
REPLICATION_METRIC_WINDOW = dt.timedelta(minutes=15)
RETIRED_SUFFIX = "-retired"
TAG_PROMOTED_AT = "mlops:dr:promotion-requested-at"
TAG_LAG_AT_PROMOTION = "mlops:dr:lag-seconds-at-promotion"
RECORD_TTL_SECONDS = 30


# --------------------------------------------------------------------------- stack outputs


@dataclass(frozen=True)
class DrTarget:
    """What the runbook needs from the stack outputs, validated once."""

    stack: str
    region: str
    dr_region: str
    rpo_minutes: int
    rto_minutes: int
    primary_db_id: str
    replica_db_id: str
    replica_db_arn: str
    record_zone_id: str
    record_name: str
    artifact_bucket: Optional[str]
    artifact_replica_bucket: Optional[str]
    feature_bucket: Optional[str]
    feature_replica_bucket: Optional[str]
    online_table: Optional[str]
    online_replica_region: Optional[str]
    image_repositories: tuple[str, ...]
    image_replica_region: Optional[str]

    @property
    def rpo_seconds(self) -> int:
        return self.rpo_minutes * 60

    @property
    def rto_seconds(self) -> int:
        return self.rto_minutes * 60


def read_stack_outputs(stack: str, outputs_file: Optional[str]) -> dict[str, Any]:
    """Outputs from a file, or from `pulumi stack output --json --stack <s>` (no secrets needed)."""
    if outputs_file:
        path = Path(outputs_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read outputs file {outputs_file}: {error.strerror}") from None
        try:
            outputs = json.loads(text)
        except json.JSONDecodeError as error:
            raise UsageError(
                f"outputs file {outputs_file} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
            ) from None
        source = f"outputs file {outputs_file}"
    else:
        pulumi = shutil.which("pulumi")
        if pulumi is None:
            raise UsageError("the pulumi CLI is not on PATH: install it, or pass --outputs-file with the stack outputs")
        log.info("reading outputs: pulumi stack output --json --stack %s", stack)
        try:
            completed = subprocess.run(
                [pulumi, "stack", "output", "--json", "--stack", stack],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(f"pulumi stack output --stack {stack} did not answer within 300 s") from None
        if completed.returncode != 0:
            detail = (completed.stderr.strip().splitlines() or ["no error output"])[-1]
            raise UsageError(f"pulumi stack output --stack {stack} failed: {detail}")
        try:
            outputs = json.loads(completed.stdout)
        except json.JSONDecodeError:
            raise UsageError(f"pulumi stack output --stack {stack} did not print JSON") from None
        source = f"outputs of stack {stack}"
    if not isinstance(outputs, dict):
        raise UsageError(f"{source}: expected a JSON object of stack outputs")
    return outputs


def _require(mapping: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = mapping.get(key)
    if value is None:
        raise UsageError(f"{where}: missing output {key!r}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UsageError(f"{where}: output {key!r} should be a {kind.__name__}, got {value!r}")
    if kind is str and not value.strip():
        raise UsageError(f"{where}: output {key!r} is empty")
    return value


def _optional_str(mapping: dict[str, Any], key: str, where: str) -> Optional[str]:
    value = mapping.get(key)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{where}: output {key!r} should be a string, got {value!r}")
    return value or None


def _bucket_from_path(path: Optional[str], key: str, where: str) -> Optional[str]:
    if path is None:
        return None
    if not path.startswith("s3://") or len(path) <= len("s3://"):
        raise UsageError(f"{where}: output {key!r} should be an s3:// path, got {path!r}")
    return path[len("s3://"):].split("/", 1)[0]


def _repository_name(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    return url.split("/", 1)[1] if "/" in url else url


def arn_region(arn: str) -> Optional[str]:
    parts = arn.split(":")
    return parts[3] if len(parts) >= 6 and parts[0] == "arn" else None


def parse_target(outputs: dict[str, Any], stack: str, where: str) -> DrTarget:
    cloud = outputs.get("cloud")
    if cloud != "aws":
        raise UsageError(f"{where}: the DR runbook drives AWS stacks; this stack's cloud is {cloud!r}")
    region = check_region(_require(outputs, "region", str, where), f"{where}: region")
    dr = _require(outputs, "dr", dict, where)
    if dr.get("enabled") is not True:
        raise UsageError(f"{where}: DR is not enabled for stack {stack} (set mlops:dr.enabled and deploy first)")
    dr_where = f"{where} (dr)"
    dr_region = check_region(_require(dr, "region", str, dr_where), f"{dr_where}: region")
    if dr_region == region:
        raise UsageError(f"{where}: the DR region {dr_region} is the primary region; DR needs a second region")
    rpo = _require(dr, "rpoMinutes", int, dr_where)
    rto = _require(dr, "rtoMinutes", int, dr_where)
    if rpo <= 0 or rto <= 0:
        raise UsageError(f"{dr_where}: rpoMinutes and rtoMinutes must be positive, got {rpo} and {rto}")
    replica_arn = _require(dr, "dbReplicaArn", str, dr_where)
    if arn_region(replica_arn) != dr_region:
        raise UsageError(
            f"{dr_where}: the database replica {replica_arn} is not in the DR region {dr_region} (wrong region)"
        )
    record = _require(outputs, "trackingDbEndpointRecord", dict, where)
    repositories = tuple(
        name
        for name in (
            _repository_name(_optional_str(outputs, "modelImageRepositoryUrl", where)),
            _repository_name(_optional_str(outputs, "trainingImageRepositoryUrl", where)),
        )
        if name
    )
    return DrTarget(
        stack=stack,
        region=region,
        dr_region=dr_region,
        rpo_minutes=rpo,
        rto_minutes=rto,
        primary_db_id=_require(outputs, "trackingDbInstanceId", str, where),
        replica_db_id=_require(dr, "dbReplicaId", str, dr_where),
        replica_db_arn=replica_arn,
        record_zone_id=_require(record, "zoneId", str, f"{where} (trackingDbEndpointRecord)").split("/")[-1],
        record_name=_require(record, "name", str, f"{where} (trackingDbEndpointRecord)").rstrip(".") + ".",
        artifact_bucket=_optional_str(outputs, "artifactBucket", where),
        artifact_replica_bucket=_optional_str(dr, "artifactReplicaBucket", dr_where),
        feature_bucket=_bucket_from_path(
            _optional_str(outputs, "featureOfflineStorePath", where), "featureOfflineStorePath", where
        ),
        feature_replica_bucket=_optional_str(dr, "featureReplicaBucket", dr_where),
        online_table=_optional_str(outputs, "onlineStoreTable", where),
        online_replica_region=_optional_str(dr, "onlineStoreReplicaRegion", dr_where),
        image_repositories=repositories,
        image_replica_region=_optional_str(dr, "imageReplicaRegion", dr_where),
    )


# --------------------------------------------------------------------------- AWS reads


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


@dataclass
class Check:
    area: str
    status: str
    detail: str


def _guarded(area: str, check: Callable[[], list[Check]]) -> list[Check]:
    """One unreachable service must not hide the others: its failure becomes a FAIL line."""
    try:
        return check()
    except (ClientError, BotoCoreError) as error:
        return [Check(area, FAIL, describe_failure(error))]


def check_database(aws: Aws) -> list[Check]:
    target = aws.target
    checks: list[Check] = []
    replica = aws.db(target.dr_region, target.replica_db_id)
    if replica is None:
        return [Check("database", FAIL, f"replica {target.replica_db_id} not found in {target.dr_region}")]
    source = replication_source(replica)
    if source is None:
        address = endpoint_address(replica)
        serving = aws.record_value() == address
        return [
            Check(
                "database",
                FAIL,
                f"{target.replica_db_id} in {target.dr_region} is a standalone instance"
                + (" serving the tracking server (failed over): no replica protects it; run make dr-failback"
                   if serving else "; no replica protects the primary"),
            )
        ]
    if not same_instance(source, target.region, target.primary_db_id):
        return [
            Check(
                "database",
                FAIL,
                f"replica {target.replica_db_id} replicates from {source}, "
                f"not from {target.primary_db_id} in {target.region}",
            )
        ]
    primary = aws.db(target.region, target.primary_db_id)
    if primary is None:
        checks.append(Check("database", FAIL, f"primary {target.primary_db_id} not found in {target.region}"))
    elif primary.get("DBInstanceStatus") != "available":
        checks.append(Check("database", WARN, f"primary {target.primary_db_id} is {primary.get('DBInstanceStatus')}"))
    state = replica.get("DBInstanceStatus")
    if state != "available":
        checks.append(Check("database", FAIL, f"replica {target.replica_db_id} is {state}, not available"))
    lag = aws.replica_lag_seconds(target.dr_region, target.replica_db_id)
    if lag is None:
        checks.append(
            Check("database", WARN, f"no ReplicaLag datapoint for {target.replica_db_id} in the last 10 minutes")
        )
    elif lag < 0:
        checks.append(Check("database", FAIL, f"replica {target.replica_db_id} reports ReplicaLag {lag:g}: replication stopped"))
    elif lag > target.rpo_seconds:
        checks.append(
            Check("database", FAIL, f"replica lag {lag:g} s exceeds the RPO of {target.rpo_seconds} s")
        )
    else:
        checks.append(
            Check(
                "database",
                OK,
                f"replica {target.replica_db_id} in {target.dr_region} {state}, lag {lag:g} s "
                f"(RPO {target.rpo_seconds} s)",
            )
        )
    return checks


def check_bucket_replication(aws: Aws, area: str, source: Optional[str], replica: Optional[str]) -> list[Check]:
    target = aws.target
    if source is None:
        return []
    if replica is None:
        return [Check(area, FAIL, f"bucket {source} has no replica bucket in the stack outputs")]
    s3 = aws.clients("s3", target.region)
    try:
        rules = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
    except ClientError as error:
        if error_code(error) == "ReplicationConfigurationNotFoundError":
            return [Check(area, FAIL, f"bucket {source} has no replication configuration")]
        raise
    destination_arn = f"arn:aws:s3:::{replica}"
    rules = [rule for rule in rules if rule.get("Destination", {}).get("Bucket") == destination_arn]
    enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
    if not enabled:
        return [Check(area, FAIL, f"no enabled replication rule copies {source} to {replica}")]
    checks: list[Check] = []
    rule = enabled[0]
    prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
    if prefix or set((rule.get("Filter") or {}).keys()) - {"Prefix"}:
        checks.append(Check(area, WARN, f"rule {rule.get('ID')} replicates only part of {source} (filter {rule.get('Filter')})"))
    replica_s3 = aws.clients("s3", target.dr_region)
    location = replica_s3.get_bucket_location(Bucket=replica).get("LocationConstraint") or "us-east-1"
    if location != target.dr_region:
        checks.append(Check(area, FAIL, f"replica bucket {replica} is in {location}, not {target.dr_region}"))
    for bucket, client in ((source, s3), (replica, replica_s3)):
        if client.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            checks.append(Check(area, FAIL, f"versioning is off on {bucket}: replication cannot run"))
    if rule.get("Destination", {}).get("Metrics", {}).get("Status") != "Enabled":
        checks.append(
            Check(area, WARN, f"replication metrics are off for {source}: only the configuration was checked")
        )
        return checks
    dimensions = {"SourceBucket": source, "DestinationBucket": replica, "RuleId": rule.get("ID", "")}
    latency = aws.latest_metric(
        target.region, "AWS/S3", "ReplicationLatency", dimensions, "Maximum", REPLICATION_METRIC_WINDOW
    )
    failed = aws.latest_metric(
        target.region, "AWS/S3", "OperationsFailedReplication", dimensions, "Sum", REPLICATION_METRIC_WINDOW
    )
    if failed:
        checks.append(Check(area, FAIL, f"{failed:g} object(s) failed to replicate from {source} recently"))
    if latency is not None and latency > target.rpo_seconds:
        checks.append(
            Check(area, FAIL, f"replication latency {latency:g} s for {source} exceeds the RPO of {target.rpo_seconds} s")
        )
    if not any(check.status == FAIL for check in checks):
        measured = f"latency {latency:g} s" if latency is not None else "no replication activity in the last 15 minutes"
        checks.append(Check(area, OK, f"{source} -> {replica} ({location}) replicating, {measured}"))
    return checks


def check_online_store(aws: Aws) -> list[Check]:
    target = aws.target
    if target.online_table is None:
        return []
    if target.online_replica_region is None:
        return [Check("online-store", FAIL, f"table {target.online_table} has no replica region in the stack outputs")]
    table = aws.clients("dynamodb", target.region).describe_table(TableName=target.online_table)["Table"]
    replicas = {replica["RegionName"]: replica for replica in table.get("Replicas", []) or []}
    replica = replicas.get(target.online_replica_region)
    if replica is None:
        return [Check("online-store", FAIL, f"table {target.online_table} has no replica in {target.online_replica_region}")]
    state = replica.get("ReplicaStatus")
    if state in ("CREATING", "UPDATING"):
        return [Check("online-store", WARN, f"replica of {target.online_table} in {target.online_replica_region} is {state}")]
    if state != "ACTIVE":
        return [Check("online-store", FAIL, f"replica of {target.online_table} in {target.online_replica_region} is {state}")]
    latency_ms = aws.latest_metric(
        target.region,
        "AWS/DynamoDB",
        "ReplicationLatency",
        {"TableName": target.online_table, "ReceivingRegion": target.online_replica_region},
        "Maximum",
        REPLICATION_METRIC_WINDOW,
    )
    if latency_ms is not None and latency_ms / 1000 > target.rpo_seconds:
        return [Check("online-store", FAIL, f"replication latency {latency_ms / 1000:g} s exceeds the RPO")]
    measured = f"latency {latency_ms / 1000:g} s" if latency_ms is not None else "no recent latency datapoint"
    return [Check("online-store", OK, f"{target.online_table} replica in {target.online_replica_region} ACTIVE, {measured}")]


def _rule_covers(rule: dict[str, Any], repository: str, region: str, account: str) -> bool:
    to_region = any(
        destination.get("region") == region and destination.get("registryId") in (None, account)
        for destination in rule.get("destinations", [])
    )
    filters = rule.get("repositoryFilters") or []
    matched = not filters or any(
        f.get("filterType") == "PREFIX_MATCH" and repository.startswith(f.get("filter", "")) for f in filters
    )
    return to_region and matched


def check_images(aws: Aws) -> list[Check]:
    target = aws.target
    if not target.image_repositories:
        return []
    if target.image_replica_region is None:
        return [Check("images", FAIL, "no image replica region in the stack outputs")]
    ecr = aws.clients("ecr", target.region)
    registry = ecr.describe_registry()
    account = registry["registryId"]
    rules = registry.get("replicationConfiguration", {}).get("rules", [])
    checks: list[Check] = []
    replica_ecr = aws.clients("ecr", target.image_replica_region)
    for repository in target.image_repositories:
        if not any(_rule_covers(rule, repository, target.image_replica_region, account) for rule in rules):
            checks.append(Check("images", FAIL, f"no registry replication rule copies {repository} to {target.image_replica_region}"))
            continue
        images: list[dict[str, Any]] = []
        for page in ecr.get_paginator("describe_images").paginate(repositoryName=repository):
            images.extend(page.get("imageDetails", []))
        if not images:
            checks.append(Check("images", OK, f"{repository}: replication rule in place, no images yet"))
            continue
        newest = max(images, key=lambda image: image["imagePushedAt"])
        try:
            replica_ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": newest["imageDigest"]}])
            checks.append(
                Check("images", OK, f"{repository}: newest image {newest['imageDigest'][:19]} present in {target.image_replica_region}")
            )
        except ClientError as error:
            if error_code(error) not in ("ImageNotFoundException", "RepositoryNotFoundException"):
                raise
            age = (aws.now() - newest["imagePushedAt"]).total_seconds()
            status = WARN if age <= target.rpo_seconds else FAIL
            checks.append(
                Check("images", status, f"{repository}: newest image (pushed {age:.0f} s ago) not yet in {target.image_replica_region}")
            )
    return checks


def collect_status(aws: Aws) -> list[Check]:
    target = aws.target
    checks: list[Check] = []
    checks += _guarded("database", lambda: check_database(aws))
    checks += _guarded("artifacts", lambda: check_bucket_replication(aws, "artifacts", target.artifact_bucket, target.artifact_replica_bucket))
    checks += _guarded("features", lambda: check_bucket_replication(aws, "features", target.feature_bucket, target.feature_replica_bucket))
    checks += _guarded("online-store", lambda: check_online_store(aws))
    checks += _guarded("images", lambda: check_images(aws))
    return checks


def overall(checks: list[Check]) -> str:
    if any(check.status == FAIL for check in checks):
        return "UNHEALTHY"
    if any(check.status == WARN for check in checks):
        return "DEGRADED"
    return "HEALTHY"


def status_command(aws: Aws, as_json: bool) -> int:
    target = aws.target
    log.info("checking replication health of stack %s: %s -> %s", target.stack, target.region, target.dr_region)
    checks = collect_status(aws)
    verdict = overall(checks)
    if as_json:
        print(json.dumps({
            "stack": target.stack, "region": target.region, "drRegion": target.dr_region,
            "rpoMinutes": target.rpo_minutes, "rtoMinutes": target.rto_minutes,
            "overall": verdict, "checks": [asdict(check) for check in checks],
        }, indent=2, sort_keys=True))
    else:
        print(f"DR status for stack {target.stack}: {target.region} -> {target.dr_region} "
              f"(RPO {target.rpo_minutes} min, RTO {target.rto_minutes} min)")
        for check in checks:
            print(f"  {check.status:<5} {check.area:<13} {check.detail}")
        print(f"overall: {verdict}")
    log.info("overall: %s", verdict)
    return EXIT_FAILED if verdict == "UNHEALTHY" else EXIT_OK


# --------------------------------------------------------------------------- waiting and confirming


@dataclass
class Wait:
    """Polling for slow AWS transitions (promotion and renames take minutes on AWS)."""

    poll_seconds: float
    timeout_seconds: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def until(self, description: str, done: Callable[[], bool], on_timeout: str) -> None:
        deadline = self.clock() + self.timeout_seconds
        while True:
            if done():
                return
            if self.clock() >= deadline:
                raise OpsError(on_timeout)
            log.info("waiting: %s", description)
            self.sleep(self.poll_seconds)


def confirm(question: str, expected: str, assume_yes: bool) -> None:
    """Destructive steps need the operator to type the stack name, or --yes in automation."""
    if assume_yes:
        log.info("confirmed by --yes: %s", question)
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise OpsError(f"refusing to {question} without confirmation: re-run with --yes (ARGS=--yes)")
    sys.stderr.write(f"{question}? Type the stack name '{expected}' to continue: ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != expected:
        raise OpsError(f"not confirmed (got {answer!r}); nothing was changed by this step")


# --------------------------------------------------------------------------- failover


@dataclass
class Runbook:
    aws: Aws
    wait: Wait
    assume_yes: bool
    accept_data_loss: bool = False
    max_switch_lag_seconds: float = 60.0
    started: float = field(default_factory=time.monotonic)

    @property
    def target(self) -> DrTarget:
        return self.aws.target

    def elapsed(self) -> float:
        return self.wait.clock() - self.started

    def wait_promoted(self, region: str, identifier: str) -> dict[str, Any]:
        latest: dict[str, Any] = {}

        def promoted() -> bool:
            instance = self.aws.db(region, identifier)
            if instance is None:
                raise OpsError(f"{identifier} disappeared from {region} while being promoted")
            latest.update(instance)
            return replication_source(instance) is None and instance.get("DBInstanceStatus") == "available"

        self.wait.until(
            f"{identifier} in {region} to finish promotion",
            promoted,
            f"{identifier} is still being promoted after {self.wait.timeout_seconds:.0f} s; "
            "re-run the same command to keep waiting (it will not promote twice)",
        )
        return latest

    def repoint(self, address: str) -> None:
        current = self.aws.record_value()
        if current == address:
            log.info("ok: %s already points at %s", self.target.record_name, address)
            return
        log.info("repointing %s: %s -> %s", self.target.record_name, current, address)
        change_id = self.aws.point_record_at(address)
        self.wait.until(
            f"Route 53 change {change_id} to be INSYNC",
            lambda: self.aws.change_in_sync(change_id),
            f"Route 53 change {change_id} is not INSYNC yet; re-run the same command to verify",
        )
        log.info("changed: %s now points at %s", self.target.record_name, address)

    def measure_lag(self, region: str, identifier: str, limit_seconds: float, purpose: str) -> Optional[float]:
        lag = self.aws.replica_lag_seconds(region, identifier)
        log.info("ReplicaLag of %s: %s", identifier, "no data" if lag is None else f"{lag:g} s")
        problem = None
        if lag is None:
            problem = f"no ReplicaLag datapoint for {identifier} in the last 10 minutes: data loss cannot be bounded"
        elif lag < 0:
            problem = f"{identifier} reports ReplicaLag {lag:g}: replication is stopped"
        elif lag > limit_seconds:
            problem = f"replica {identifier} lags {lag:g} s, beyond the {purpose} of {limit_seconds:g} s"
        if problem:
            if not self.accept_data_loss:
                raise OpsError(f"{problem}; re-run with --accept-data-loss to promote anyway")
            log.warning("proceeding despite: %s (--accept-data-loss)", problem)
        return lag

    def failover(self) -> int:
        target = self.target
        log.info("failover of stack %s: promote %s in %s and repoint %s",
                 target.stack, target.replica_db_id, target.dr_region, target.record_name)
        replica = self.aws.db(target.dr_region, target.replica_db_id)
        if replica is None:
            raise OpsError(f"replica {target.replica_db_id} not found in {target.dr_region}: nothing to promote")
        if replica.get("DBInstanceArn") and arn_region(replica["DBInstanceArn"]) != target.dr_region:
            raise OpsError(f"{target.replica_db_id} is in {arn_region(replica['DBInstanceArn'])}, not the DR region {target.dr_region}")
        address = endpoint_address(replica)
        if address is None:
            raise OpsError(f"{target.replica_db_id} has no endpoint yet (status {replica.get('DBInstanceStatus')})")
        tags = tags_of(replica)
        lag: Optional[float] = None
        source = replication_source(replica)
        if source is None:
            if self.aws.record_value() == address:
                print(f"nothing to do: {target.replica_db_id} in {target.dr_region} is already promoted and "
                      f"{target.record_name} points at it (promotion requested {tags.get(TAG_PROMOTED_AT, 'at an unknown time')}, "
                      f"lag at promotion {tags.get(TAG_LAG_AT_PROMOTION, 'unknown')} s)")
                log.info("failover already complete; nothing changed")
                return EXIT_OK
            log.info("ok: %s is already promoted; the record still has to be repointed", target.replica_db_id)
        else:
            if not same_instance(source, target.region, target.primary_db_id):
                raise OpsError(
                    f"{target.replica_db_id} replicates from {source}, not from {target.primary_db_id} in "
                    f"{target.region}: refusing to promote the wrong replica"
                )
            if TAG_PROMOTED_AT in tags:
                log.info("promotion of %s was already requested at %s; waiting for it",
                         target.replica_db_id, tags[TAG_PROMOTED_AT])
            else:
                if replica.get("DBInstanceStatus") != "available":
                    raise OpsError(
                        f"replica {target.replica_db_id} is {replica.get('DBInstanceStatus')}, not available: "
                        "it cannot be promoted now"
                    )
                lag = self.measure_lag(target.dr_region, target.replica_db_id, target.rpo_seconds, "RPO")
                confirm(f"promote {target.replica_db_id} in {target.dr_region} to be the tracking database of stack "
                        f"{target.stack}", target.stack, self.assume_yes)
                self.aws.clients("rds", target.dr_region).add_tags_to_resource(
                    ResourceName=replica["DBInstanceArn"],
                    Tags=[
                        {"Key": TAG_PROMOTED_AT, "Value": self.aws.now().strftime("%Y-%m-%dT%H:%M:%SZ")},
                        {"Key": TAG_LAG_AT_PROMOTION, "Value": "unknown" if lag is None else f"{lag:g}"},
                    ],
                )
                retention = replica.get("BackupRetentionPeriod") or 7
                self.aws.clients("rds", target.dr_region).promote_read_replica(
                    DBInstanceIdentifier=target.replica_db_id, BackupRetentionPeriod=max(1, retention)
                )
                log.info("changed: promotion of %s requested (backup retention %s days)", target.replica_db_id, max(1, retention))
            replica = self.wait_promoted(target.dr_region, target.replica_db_id)
            log.info("ok: %s is a standalone, available instance", target.replica_db_id)
            address = endpoint_address(replica) or address
        self.repoint(address)
        self.verify(target.dr_region, target.replica_db_id)
        elapsed = self.elapsed()
        if lag is not None:
            rpo_text = f"{lag:g} s"
        elif TAG_LAG_AT_PROMOTION in tags:
            rpo_text = f"{tags[TAG_LAG_AT_PROMOTION]} s (measured when promotion was requested)"
        else:
            rpo_text = "unknown (no ReplicaLag data)"
        print(f"failover complete for stack {target.stack}: the tracking database is now "
              f"{target.replica_db_id} in {target.dr_region} ({address})")
        print(f"  measured RPO (replica lag at promotion): {rpo_text}; target {target.rpo_seconds} s")
        rto_verdict = "met" if elapsed <= target.rto_seconds else "MISSED"
        print(f"  elapsed: {elapsed:.1f} s; RTO target {target.rto_seconds} s: {rto_verdict}")
        print("  next: keep `pulumi up` for this stack frozen (it would repoint the record at the old primary) "
              "until `make dr-failback` has finished")
        return EXIT_OK

    def verify(self, region: str, identifier: str) -> None:
        instance = self.aws.db(region, identifier)
        address = endpoint_address(instance)
        if instance is None or replication_source(instance) is not None or instance.get("DBInstanceStatus") != "available":
            raise OpsError(f"verification failed: {identifier} in {region} is not a standalone available instance")
        record = self.aws.record_value()
        if record != address:
            raise OpsError(f"verification failed: {self.target.record_name} points at {record}, not {address}")
        log.info("verified: %s is standalone and available; %s -> %s", identifier, self.target.record_name, address)

    # ----------------------------------------------------------------------- failback

    def rename(self, region: str, identifier: str, new_identifier: str) -> dict[str, Any]:
        """Keep a diverged instance (its data may be needed) under a new name, out of the way."""
        if self.aws.db(region, new_identifier) is not None:
            raise OpsError(
                f"both {identifier} and {new_identifier} exist in {region}: delete or rename {new_identifier} "
                "by hand (after checking it holds nothing you need), then re-run"
            )
        confirm(f"rename {identifier} in {region} to {new_identifier} (it keeps its data)", self.target.stack,
                self.assume_yes)
        self.aws.clients("rds", region).modify_db_instance(
            DBInstanceIdentifier=identifier, NewDBInstanceIdentifier=new_identifier, ApplyImmediately=True
        )
        log.info("changed: rename of %s to %s requested", identifier, new_identifier)
        renamed: dict[str, Any] = {}

        def done() -> bool:
            instance = self.aws.db(region, new_identifier)
            if instance:
                renamed.update(instance)
            return bool(instance) and instance.get("DBInstanceStatus") == "available"

        self.wait.until(f"{identifier} to be renamed {new_identifier}", done,
                        f"{identifier} is still being renamed; re-run the same command to continue")
        return renamed

    def create_replica(self, region: str, identifier: str, source: dict[str, Any], template: dict[str, Any]) -> None:
        """A cross-region read replica with the network, key and sizing the old instance had."""
        arguments: dict[str, Any] = {
            "DBInstanceIdentifier": identifier,
            "SourceDBInstanceIdentifier": source["DBInstanceArn"],
            "SourceRegion": arn_region(source["DBInstanceArn"]),
            "DBInstanceClass": template["DBInstanceClass"],
            "MultiAZ": bool(template.get("MultiAZ", False)),
            "PubliclyAccessible": False,
            "CopyTagsToSnapshot": True,
            "DeletionProtection": bool(template.get("DeletionProtection", False)),
            "AutoMinorVersionUpgrade": bool(template.get("AutoMinorVersionUpgrade", True)),
            "Tags": [tag for tag in template.get("TagList", []) or [] if not tag["Key"].startswith(("aws:", "mlops:dr:"))],
        }
        if template.get("StorageType"):
            arguments["StorageType"] = template["StorageType"]
        subnet_group = (template.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
        if subnet_group:
            arguments["DBSubnetGroupName"] = subnet_group
        security_groups = [group["VpcSecurityGroupId"] for group in template.get("VpcSecurityGroups", []) or []]
        if security_groups:
            arguments["VpcSecurityGroupIds"] = security_groups
        if template.get("StorageEncrypted") and template.get("KmsKeyId"):
            arguments["KmsKeyId"] = template["KmsKeyId"]
        parameter_groups = template.get("DBParameterGroups") or []
        if parameter_groups:
            arguments["DBParameterGroupName"] = parameter_groups[0]["DBParameterGroupName"]
        confirm(f"create {identifier} in {region} as a replica of {source['DBInstanceIdentifier']}",
                self.target.stack, self.assume_yes)
        self.aws.clients("rds", region).create_db_instance_read_replica(**arguments)
        log.info("changed: creation of replica %s in %s from %s requested", identifier, region, source["DBInstanceArn"])

    def failback(self) -> int:
        target = self.target
        primary = self.aws.db(target.region, target.primary_db_id)
        dr_db = self.aws.db(target.dr_region, target.replica_db_id)
        record = self.aws.record_value()
        primary_address, dr_address = endpoint_address(primary), endpoint_address(dr_db)
        retired_primary_id = target.primary_db_id + RETIRED_SUFFIX
        retired_dr_id = target.replica_db_id + RETIRED_SUFFIX
        log.info("failback of stack %s: %s in %s <- %s in %s; record -> %s", target.stack, target.primary_db_id,
                 target.region, target.replica_db_id, target.dr_region, record)

        # Normal topology: the DR instance replicates the primary and the record names the primary.
        if (primary and dr_db and replication_source(primary) is None and record == primary_address
                and same_instance(replication_source(dr_db), target.region, target.primary_db_id)):
            leftovers = [f"{identifier} in {region}" for region, identifier in
                         ((target.region, retired_primary_id), (target.dr_region, retired_dr_id))
                         if self.aws.db(region, identifier)]
            print(f"nothing to fail back: {target.primary_db_id} in {target.region} is the tracking database and "
                  f"{target.replica_db_id} replicates it")
            if leftovers:
                print("  manual clean-up once you no longer need their data: " + "; ".join(leftovers)
                      + " (disable deletion protection, then aws rds delete-db-instance --final-db-snapshot-identifier ...)")
            return EXIT_OK

        # Step 1-2: failed over; give the primary region a replica of the promoted DR instance.
        if dr_db and replication_source(dr_db) is None and record == dr_address:
            if primary is not None and same_instance(replication_source(primary), target.dr_region, target.replica_db_id):
                return self._switch_back(primary, dr_db)
            if primary is not None:
                log.info("%s in %s diverged when the DR region took over; keeping it as %s",
                         target.primary_db_id, target.region, retired_primary_id)
                template = self.rename(target.region, target.primary_db_id, retired_primary_id)
            else:
                template = self.aws.db(target.region, retired_primary_id)
                if template is None:
                    raise OpsError(
                        f"neither {target.primary_db_id} nor {retired_primary_id} exists in {target.region}: "
                        "no instance to copy network and key settings from; restore the primary-region "
                        "network with `pulumi up` first (manual), then re-run"
                    )
            self.create_replica(target.region, target.primary_db_id, dr_db, template)
            print(f"failback step done: {target.primary_db_id} is being created in {target.region} as a replica of "
                  f"{target.replica_db_id}. Re-run `make dr-failback STACK={target.stack}` once it is available and "
                  "caught up; that run switches the tracking server back.")
            return EXIT_OK

        # Step 5: switched back; re-create the DR replica with the stack's identifier.
        if primary and replication_source(primary) is None and record == primary_address and (
                dr_db is None or replication_source(dr_db) is None):
            return self._reprotect(primary, dr_db, retired_dr_id)

        raise OpsError(
            f"unexpected topology, not touching it: {target.primary_db_id} in {target.region} "
            f"{self._describe(primary)}, {target.replica_db_id} in {target.dr_region} {self._describe(dr_db)}, "
            f"record -> {record}"
        )

    @staticmethod
    def _describe(instance: Optional[dict[str, Any]]) -> str:
        if instance is None:
            return "missing"
        source = replication_source(instance)
        state = instance.get("DBInstanceStatus")
        return f"({state}, replica of {source})" if source else f"({state}, standalone)"

    def _switch_back(self, primary: dict[str, Any], dr_db: dict[str, Any]) -> int:
        target = self.target
        if primary.get("DBInstanceStatus") != "available":
            print(f"failback in progress: {target.primary_db_id} in {target.region} is "
                  f"{primary.get('DBInstanceStatus')}; re-run `make dr-failback STACK={target.stack}` later")
            return EXIT_OK
        lag = self.aws.replica_lag_seconds(target.region, target.primary_db_id)
        if lag is None or lag < 0 or lag > self.max_switch_lag_seconds:
            print(f"failback in progress: {target.primary_db_id} is catching up (ReplicaLag "
                  f"{'unknown' if lag is None else f'{lag:g} s'}, switch needs <= {self.max_switch_lag_seconds:g} s); "
                  f"re-run `make dr-failback STACK={target.stack}` later")
            return EXIT_OK
        print("manual step before the switch: stop writes to the tracking server, e.g. "
              "`kubectl -n mlops scale deployment/mlflow --replicas=0`, so that nothing written after this "
              "point is lost", file=sys.stderr)
        confirm(f"switch the tracking database of stack {target.stack} back to {target.primary_db_id} in "
                f"{target.region} (writes are stopped)", target.stack, self.assume_yes)
        self.measure_lag(target.region, target.primary_db_id, self.max_switch_lag_seconds, "switch-back limit")
        self.aws.clients("rds", target.region).promote_read_replica(
            DBInstanceIdentifier=target.primary_db_id,
            BackupRetentionPeriod=max(1, dr_db.get("BackupRetentionPeriod") or 7),
        )
        log.info("changed: promotion of %s in %s requested", target.primary_db_id, target.region)
        promoted = self.wait_promoted(target.region, target.primary_db_id)
        self.repoint(endpoint_address(promoted) or "")
        self.verify(target.region, target.primary_db_id)
        print(f"switched back: {target.primary_db_id} in {target.region} serves the tracking server again "
              f"({self.elapsed():.1f} s). Manual step: start the tracking server again "
              "(`kubectl -n mlops scale deployment/mlflow --replicas=<n>`).")
        fresh_dr = self.aws.db(target.dr_region, target.replica_db_id)
        return self._reprotect(promoted, fresh_dr, target.replica_db_id + RETIRED_SUFFIX)

    def _reprotect(self, primary: dict[str, Any], dr_db: Optional[dict[str, Any]], retired_dr_id: str) -> int:
        target = self.target
        if dr_db is not None:
            template = self.rename(target.dr_region, target.replica_db_id, retired_dr_id)
        else:
            template = self.aws.db(target.dr_region, retired_dr_id)
            if template is None:
                raise OpsError(
                    f"no {target.replica_db_id} or {retired_dr_id} in {target.dr_region} to copy settings from: "
                    "run `pulumi up` for the stack to re-create the DR replica (manual)"
                )
        self.create_replica(target.dr_region, target.replica_db_id, primary, template)
        print(f"failback complete: {target.primary_db_id} in {target.region} is primary again and "
              f"{target.replica_db_id} is being re-created in {target.dr_region} as its replica.")
        print("  manual steps: 1) `pulumi refresh --stack " + target.stack + "` so the state matches; "
              "2) re-enable deploys; 3) after checking their data, delete "
              f"{target.primary_db_id + RETIRED_SUFFIX} ({target.region}) and {retired_dr_id} ({target.dr_region}); "
              f"4) `make dr-status STACK={target.stack}` until HEALTHY")
        return EXIT_OK


# --------------------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops_tools.ops.aws.dr", description="DR runbook for the AWS stack.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("status", "report replication health against the RPO target"),
        ("failover", "promote the DR database replica and repoint the tracking server"),
        ("failback", "return to the primary region, one safe step per run"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("--stack", required=True, help="Pulumi stack name, e.g. prod")
        command.add_argument("--outputs-file", help="JSON of `pulumi stack output --json` (default: ask pulumi)")
        command.add_argument("--endpoint-url", help="AWS-compatible endpoint (e.g. a local emulator)")
        if name == "status":
            command.add_argument("--json", action="store_true", help="machine-readable report on stdout")
        else:
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
            command.add_argument("--poll-seconds", type=float, default=15.0, help="seconds between state polls")
            command.add_argument("--timeout-seconds", type=float,
                                 help="give up waiting after this long (default: the stack's RTO)")
        if name == "failover":
            command.add_argument("--accept-data-loss", action="store_true",
                                 help="promote even when the replica lags beyond the RPO or its lag is unknown")
        if name == "failback":
            command.add_argument("--max-switch-lag-seconds", type=float, default=60.0,
                                 help="largest replica lag at which the switch back may start")
    return parser


def main(argv: Optional[Sequence[str]] = None, now: Callable[[], dt.datetime] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    if isinstance(args, int):
        return args
    clock = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def body() -> int:
        where = f"outputs file {args.outputs_file}" if args.outputs_file else f"stack {args.stack}"
        target = parse_target(read_stack_outputs(args.stack, args.outputs_file), args.stack, where)
        aws = Aws(target, Clients(args.endpoint_url), clock)
        if args.command == "status":
            return status_command(aws, args.json)
        if args.poll_seconds < 0 or (args.timeout_seconds is not None and args.timeout_seconds < 0):
            raise UsageError("--poll-seconds and --timeout-seconds must not be negative")
        wait = Wait(args.poll_seconds, target.rto_seconds if args.timeout_seconds is None else args.timeout_seconds)
        runbook = Runbook(aws, wait, assume_yes=args.yes)
        if args.command == "failover":
            runbook.accept_data_loss = args.accept_data_loss
            return runbook.failover()
        runbook.max_switch_lag_seconds = args.max_switch_lag_seconds
        return runbook.failback()

    return run_main(log, body)


if __name__ == "__main__":
    sys.exit(main())
