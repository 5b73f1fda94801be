"""Failback: return the tracking database to the primary region, one safe step per run (each run inspects the
topology and does the next step: re-replicate to the primary region, switch back, re-protect).
"""

from __future__ import annotations

import sys
from typing import Any, Optional

from mlops_tools.cmdline import EXIT_OK
from mlops_tools.ops.aws.dr.calls import endpoint_address, replication_source, same_instance
from mlops_tools.ops.aws.dr.steps import RdsSteps
from mlops_tools.ops.aws.dr.target import RETIRED_SUFFIX
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook import Action, execute, log


class Failback(RdsSteps):
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
            kept: dict[str, Any] = {}
            actions = []
            if primary is not None:
                log.info("%s in %s diverged when the DR region took over; keeping it as %s",
                         target.primary_db_id, target.region, retired_primary_id)
                actions.append(self.rename_action(target.region, target.primary_db_id, retired_primary_id, kept))
            else:
                kept["template"] = self.aws.db(target.region, retired_primary_id)
                if kept["template"] is None:
                    raise OpsError(
                        f"neither {target.primary_db_id} nor {retired_primary_id} exists in {target.region}: "
                        "no instance to copy network and key settings from; restore the primary-region "
                        "network with `pulumi up` first (manual), then re-run"
                    )
            actions.append(self.create_replica_action(target.region, target.primary_db_id, dr_db, kept))
            if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
                return EXIT_OK
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
        promoted: dict[str, Any] = {}

        def promote() -> None:
            self.measure_lag(target.region, target.primary_db_id, self.max_switch_lag_seconds, "switch-back limit")
            self.aws.clients("rds", target.region).promote_read_replica(
                DBInstanceIdentifier=target.primary_db_id,
                BackupRetentionPeriod=max(1, dr_db.get("BackupRetentionPeriod") or 7),
            )
            log.info("changed: promotion of %s in %s requested", target.primary_db_id, target.region)
            promoted.update(self.wait_promoted(target.region, target.primary_db_id))

        def repoint() -> None:
            self.repoint(endpoint_address(promoted) or "")
            self.verify(target.region, target.primary_db_id)

        kept: dict[str, Any] = {}
        actions = [
            Action(f"promote {target.primary_db_id} in {target.region} (after re-checking its lag) and wait",
                   promote, question=f"switch the tracking database of stack {target.stack} back to "
                                     f"{target.primary_db_id} in {target.region} (writes are stopped)"),
            Action(f"repoint {target.record_name} at {target.primary_db_id} and verify", repoint),
            self.rename_action(target.dr_region, target.replica_db_id, target.replica_db_id + RETIRED_SUFFIX, kept),
            self.create_replica_action(target.dr_region, target.replica_db_id, primary, kept),
        ]
        if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
            return EXIT_OK
        print(f"switched back: {target.primary_db_id} in {target.region} serves the tracking server again "
              f"({self.elapsed():.1f} s). Manual step: start the tracking server again "
              "(`kubectl -n mlops scale deployment/mlflow --replicas=<n>`).")
        return self._reprotected(target.replica_db_id + RETIRED_SUFFIX)

    def _reprotect(self, primary: dict[str, Any], dr_db: Optional[dict[str, Any]], retired_dr_id: str) -> int:
        target = self.target
        kept: dict[str, Any] = {}
        actions = []
        if dr_db is not None:
            actions.append(self.rename_action(target.dr_region, target.replica_db_id, retired_dr_id, kept))
        else:
            kept["template"] = self.aws.db(target.dr_region, retired_dr_id)
            if kept["template"] is None:
                raise OpsError(
                    f"no {target.replica_db_id} or {retired_dr_id} in {target.dr_region} to copy settings from: "
                    "run `pulumi up` for the stack to re-create the DR replica (manual)"
                )
        actions.append(self.create_replica_action(target.dr_region, target.replica_db_id, primary, kept))
        if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
            return EXIT_OK
        return self._reprotected(retired_dr_id)

    def _reprotected(self, retired_dr_id: str) -> int:
        target = self.target
        print(f"failback complete: {target.primary_db_id} in {target.region} is primary again and "
              f"{target.replica_db_id} is being re-created in {target.dr_region} as its replica.")
        print("  manual steps: 1) `pulumi refresh --stack " + target.stack + "` so the state matches; "
              "2) re-enable deploys; 3) after checking their data, delete "
              f"{target.primary_db_id + RETIRED_SUFFIX} ({target.region}) and {retired_dr_id} ({target.dr_region}); "
              f"4) `make dr-status STACK={target.stack}` until HEALTHY")
        return EXIT_OK
