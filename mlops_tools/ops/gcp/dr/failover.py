"""GCP failover and failback of the tracking database: promote the Cloud SQL replica, give it backups and a
zone standby, repoint the private record MLflow uses (`tracking-db.<env>.mlops.internal`) at it, and route the
online store's app profile to the DR Bigtable cluster.

Failover calls only the DR instance, Cloud DNS (global) and Bigtable's DR side. Every run inspects the state
first and turns what is not done yet into a plan of actions (`runbook.plan`): a promotion a crashed run left
running is waited for, not requested twice; a record already pointing at the replica is left alone.
"""

from __future__ import annotations

from mlops_tools.cmdline import EXIT_OK
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.gcp.dr.calls import is_replica, master_of, private_ip
from mlops_tools.ops.gcp.dr.steps import GcpSteps
from mlops_tools.ops.gcp.dr.target import DR_CLUSTER_SUFFIX
from mlops_tools.ops.runbook import print_objectives


class GcpRunbook(GcpSteps):
    """The two procedures on the shared steps (`steps.GcpSteps`)."""

    # --- the procedures ---------------------------------------------------------------------------

    def failover(self) -> int:
        target = self.gcp.target
        name = target.replica_instance
        replica = self.gcp.instance(name)
        if replica is None:
            raise OpsError(f"replica {name} not found in {target.dr_region}: nothing to promote")
        lag = None
        if is_replica(replica):
            if master_of(replica) != target.primary_instance:
                raise OpsError(f"{name} replicates from {master_of(replica)}, not from {target.primary_instance}: "
                               "refusing to promote the wrong replica")
            if not self.gcp.running_operations(name, "PROMOTE_REPLICA"):
                lag = self.bounded_lag(name, self.gcp.replica_lag_seconds(name), target.rpo_seconds, "RPO")
        actions = [*self._promote_actions(name, replica, f"promote {name} in {target.dr_region} to be the tracking "
                                                         f"database of stack {target.stack}"),
                   *self._repoint_action(name, private_ip(replica)),
                   *self._route_actions([target.cluster_id(DR_CLUSTER_SUFFIX)], "the DR cluster only")]
        if not actions:
            print(f"nothing to do: {name} in {target.dr_region} is promoted and {target.record_name} points at it")
            return EXIT_OK
        if not self.carry_out(actions, target.stack):
            return EXIT_OK
        address = self._verify(name)
        print(f"failover complete for stack {target.stack}: the tracking database is now {name} in "
              f"{target.dr_region}; {target.record_name} -> {address}")
        print_objectives(target, "unknown" if lag is None else f"{lag:g} s", self.elapsed())
        print("  images: deploy from the DR repositories " + ", ".join(url for _, url in target.image_repository_urls))
        return EXIT_OK

    def failback(self) -> int:
        target = self.gcp.target
        primary = self.gcp.instance(target.primary_instance)
        dr_instance = self.gcp.instance(target.replica_instance)
        record = (self.gcp.record() or {}).get("rrdatas")
        if primary and not is_replica(primary) and record == [private_ip(primary)] and is_replica(dr_instance):
            print(f"nothing to fail back: {target.primary_instance} in {target.region} is the tracking database and "
                  f"{target.replica_instance} replicates it")
            return EXIT_OK
        if not is_replica(primary) or master_of(primary) != target.replica_instance:
            raise OpsError(f"{target.primary_instance} in {target.region} is "
                           f"{'missing' if primary is None else 'not a replica of ' + target.replica_instance}: "
                           "refusing to fail back. Re-create it as a replica of the DR instance first "
                           "(docs/dr.md, failback step 1), then re-run")
        if not self.gcp.running_operations(target.primary_instance, "PROMOTE_REPLICA"):
            self.refuse_while_behind(target.primary_instance, self.gcp.replica_lag_seconds(target.primary_instance))
        actions = [*self._promote_actions(target.primary_instance, primary,
                                          f"switch the tracking database back to {target.primary_instance} in "
                                          f"{target.region} (writes are stopped)"),
                   *self._repoint_action(target.primary_instance, private_ip(primary)),
                   *self._route_actions([], "every cluster (automatic failover, as deployed)")]
        if not self.carry_out(actions, target.stack):
            return EXIT_OK
        self._verify(target.primary_instance)
        print(f"failback complete: {target.primary_instance} in {target.region} serves the tracking server again. "
              f"Manual: start the tracking server; {target.replica_instance} is now standalone: delete it and "
              f"`pulumi up` to re-create the DR replica, then `make dr-status STACK={target.stack}` until HEALTHY")
        return EXIT_OK
