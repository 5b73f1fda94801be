"""Failover: promote the DR database replica and repoint the tracking server's record; calls only the DR
region and Route 53 (during a regional outage the primary region's APIs may not answer).
"""

from __future__ import annotations

from typing import Any, Optional

from mlops_tools.cmdline import EXIT_OK
from mlops_tools.ops.aws.dr.calls import endpoint_address, replication_source, same_instance, tags_of
from mlops_tools.ops.aws.dr.steps import RdsSteps
from mlops_tools.ops.aws.dr.target import TAG_LAG_AT_PROMOTION, TAG_PROMOTED_AT, arn_region
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook import Action, execute, log, print_objectives


class Failover(RdsSteps):
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
        promoted = {"address": address}
        actions: list[Action] = []
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
                actions.append(Action(f"wait for {target.replica_db_id} in {target.dr_region} to finish the "
                                      "promotion already requested", lambda: self._promoted(promoted)))
            else:
                if replica.get("DBInstanceStatus") != "available":
                    raise OpsError(
                        f"replica {target.replica_db_id} is {replica.get('DBInstanceStatus')}, not available: "
                        "it cannot be promoted now"
                    )
                lag = self.measure_lag(target.dr_region, target.replica_db_id, target.rpo_seconds, "RPO")
                actions.append(Action(
                    f"promote RDS replica {target.replica_db_id} in {target.dr_region} (tagged with the lag first)",
                    lambda: (self._promote(replica, lag), self._promoted(promoted)),
                    question=f"promote {target.replica_db_id} in {target.dr_region} to be the tracking database of "
                             f"stack {target.stack}"))
        actions.append(Action(f"repoint {target.record_name} at {address} and wait until Route 53 is INSYNC",
                              lambda: self.repoint(promoted["address"])))
        if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
            return EXIT_OK
        self.verify(target.dr_region, target.replica_db_id)
        elapsed = self.elapsed()
        if lag is not None:
            rpo_text = f"{lag:g} s"
        elif TAG_LAG_AT_PROMOTION in tags:
            rpo_text = f"{tags[TAG_LAG_AT_PROMOTION]} s (measured when promotion was requested)"
        else:
            rpo_text = "unknown (no ReplicaLag data)"
        print(f"failover complete for stack {target.stack}: the tracking database is now "
              f"{target.replica_db_id} in {target.dr_region} ({promoted['address']})")
        print_objectives(target, rpo_text, elapsed)
        print("  next: keep `pulumi up` for this stack frozen (it would repoint the record at the old primary) "
              "until `make dr-failback` has finished")
        return EXIT_OK

    def _promote(self, replica: dict[str, Any], lag: Optional[float]) -> None:
        """Tag the replica with the time and the lag (the evidence a re-run reads), then ask RDS to promote it."""
        target = self.target
        rds = self.aws.clients("rds", target.dr_region)
        rds.add_tags_to_resource(ResourceName=replica["DBInstanceArn"], Tags=[
            {"Key": TAG_PROMOTED_AT, "Value": self.aws.now().strftime("%Y-%m-%dT%H:%M:%SZ")},
            {"Key": TAG_LAG_AT_PROMOTION, "Value": "unknown" if lag is None else f"{lag:g}"}])
        retention = max(1, replica.get("BackupRetentionPeriod") or 7)
        rds.promote_read_replica(DBInstanceIdentifier=target.replica_db_id, BackupRetentionPeriod=retention)
        log.info("changed: promotion of %s requested (backup retention %s days)", target.replica_db_id, retention)

    def _promoted(self, promoted: dict[str, Any]) -> None:
        instance = self.wait_promoted(self.target.dr_region, self.target.replica_db_id)
        log.info("ok: %s is a standalone, available instance", self.target.replica_db_id)
        promoted["address"] = endpoint_address(instance) or promoted["address"]
