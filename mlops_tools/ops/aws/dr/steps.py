"""The RDS steps both procedures use: wait for a promotion, repoint the Route 53 record, bound the replica lag,
verify, keep a diverged instance under a new name, create a cross-region replica. Each step checks first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from mlops_tools.ops.aws.dr.calls import Aws, endpoint_address, replication_source
from mlops_tools.ops.aws.dr.target import DrTarget, arn_region
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook import Action, Wait, log
from mlops_tools.ops.runbook.steps import bound_lag

# RDS statuses a promotion does not leave by itself (RDS User Guide, "Viewing Amazon RDS DB instance status").
STUCK_STATUSES = frozenset({"failed", "incompatible-parameters", "incompatible-network", "incompatible-option-group",
                            "incompatible-restore", "inaccessible-encryption-credentials", "storage-full", "restore-error"})
# A replica promotion takes minutes; past this, waiting for the rest of the RTO helps nobody.
PROMOTION_TIMEOUT_SECONDS = 15 * 60


@dataclass
class RdsSteps:
    """The state and shared steps of one run (`Runbook` adds failover and failback)."""

    aws: Aws
    wait: Wait
    assume_yes: bool
    accept_data_loss: bool = False
    max_switch_lag_seconds: float = 60.0
    dry_run: bool = False  # print the plan of actions (runbook.plan) instead of carrying it out
    started: float = field(default_factory=time.monotonic)

    @property
    def target(self) -> DrTarget:
        return self.aws.target

    def elapsed(self) -> float:
        return self.wait.clock() - self.started

    def wait_promoted(self, region: str, identifier: str) -> dict[str, Any]:
        """Wait for the promotion, but not for the whole RTO when it cannot finish.

        RDS promotes a replica in minutes. A status RDS does not leave by itself (a failed instance,
        full storage, incompatible parameters) stops the wait at once; past PROMOTION_TIMEOUT_SECONDS
        the operator is told to look at the instance's events instead of waiting out the RTO.
        """
        latest: dict[str, Any] = {}

        def promoted() -> bool:
            instance = self.aws.db(region, identifier)
            if instance is None:
                raise OpsError(f"{identifier} disappeared from {region} while being promoted")
            latest.update(instance)
            status = instance.get("DBInstanceStatus")
            if status in STUCK_STATUSES:
                raise OpsError(f"{identifier} in {region} is {status!r}, which promotion does not leave: fix the instance "
                               f"(aws rds describe-events --source-identifier {identifier} --region {region}), then re-run")
            return replication_source(instance) is None and status == "available"

        limit = min(self.wait.timeout_seconds, PROMOTION_TIMEOUT_SECONDS)
        Wait(self.wait.poll_seconds, limit, self.wait.sleep, self.wait.clock).until(
            f"{identifier} in {region} to finish promotion",
            promoted,
            lambda: f"{identifier} in {region} has not finished promotion after {limit:.0f} s (status "
                    f"{latest.get('DBInstanceStatus', 'unknown')!r}; RDS usually promotes in minutes): check its events "
                    f"with aws rds describe-events --source-identifier {identifier} --region {region}; "
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
        return bound_lag(identifier, self.aws.replica_lag_seconds(region, identifier), limit_seconds, purpose,
                         self.accept_data_loss, metric="ReplicaLag")

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

    def rename_action(self, region: str, identifier: str, new_identifier: str, kept: dict[str, Any]) -> Action:
        """Keep a diverged instance (its data may be needed) under a new name, out of the way; `kept["template"]`
        is the renamed instance once the action has run."""
        if self.aws.db(region, new_identifier) is not None:
            raise OpsError(
                f"both {identifier} and {new_identifier} exist in {region}: delete or rename {new_identifier} "
                "by hand (after checking it holds nothing you need), then re-run"
            )

        def run() -> None:
            self.aws.clients("rds", region).modify_db_instance(
                DBInstanceIdentifier=identifier, NewDBInstanceIdentifier=new_identifier, ApplyImmediately=True
            )
            log.info("changed: rename of %s to %s requested", identifier, new_identifier)

            def done() -> bool:
                instance = self.aws.db(region, new_identifier)
                if instance:
                    kept["template"] = instance
                return bool(instance) and instance.get("DBInstanceStatus") == "available"

            self.wait.until(f"{identifier} to be renamed {new_identifier}", done,
                            f"{identifier} is still being renamed; re-run the same command to continue")

        return Action(f"rename {identifier} in {region} to {new_identifier} (it keeps its data)", run,
                      question=f"rename {identifier} in {region} to {new_identifier} (it keeps its data)")

    def create_replica_action(self, region: str, identifier: str, source: dict[str, Any],
                              kept: dict[str, Any]) -> Action:
        """A cross-region read replica with the network, key and sizing of `kept["template"]` (the old instance)."""
        question = f"create {identifier} in {region} as a replica of {source['DBInstanceIdentifier']}"
        return Action(question, lambda: self._create_replica(region, identifier, source, kept["template"]),
                      question=question)

    def _create_replica(self, region: str, identifier: str, source: dict[str, Any], template: dict[str, Any]) -> None:
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
        self.aws.clients("rds", region).create_db_instance_read_replica(**arguments)
        log.info("changed: creation of replica %s in %s from %s requested", identifier, region, source["DBInstanceArn"])
