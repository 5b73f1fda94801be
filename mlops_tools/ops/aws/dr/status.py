"""AWS replication health for `status`: the database replica, S3 replication, the DynamoDB replica, ECR replication."""

from __future__ import annotations

from typing import Any, Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from mlops_tools.ops.aws.clients import describe_failure, error_code
from mlops_tools.ops.aws.dr.calls import Aws, endpoint_address, replication_source, same_instance
from mlops_tools.ops.aws.dr.target import REPLICATION_METRIC_WINDOW
from mlops_tools.ops.runbook import FAIL, OK, WARN, Check, guarded


def _guarded(area: str, check: Callable[[], list[Check]]) -> list[Check]:
    return guarded(area, check, (ClientError, BotoCoreError), describe_failure)


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
