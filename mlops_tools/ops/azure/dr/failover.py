"""Azure failover and failback of the tracking database: 'promote to primary server' (switchover) of the
flexible-server replica; the writer virtual endpoint MLflow connects to follows the new primary by itself.

Failover uses the Forced option (the primary region may not answer) and calls only the DR server's API;
failback uses Planned (Azure waits until the old primary has caught up) once the old primary is a replica
of the DR server again, and refuses while it lags. Each run inspects the state first and turns what is not
done yet into a plan of actions (`runbook.plan`), so a re-run after a crash continues where it stopped.
"""

from __future__ import annotations

from typing import Optional

from mlops_tools.cmdline import EXIT_OK
from mlops_tools.ops.azure.dr.calls import AzureCalls, dr_redis_database_id
from mlops_tools.ops.azure.dr.status import is_replica, role
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.runbook import Action, Run, log, print_objectives


class AzureRunbook(Run):
    """One Azure run: `calls` is the run's `AzureCalls`."""

    @property
    def azure(self) -> AzureCalls:
        return self.calls

    def _wait_primary(self, group: str, name: str) -> None:
        def promoted() -> bool:
            server = self.azure.server(group, name)
            if server is None:
                raise OpsError(f"{name} disappeared while being promoted")
            return role(server) == "Primary" and server.get("state") == "Ready"

        self.wait.until(f"{name} to be the primary and ready", promoted,
                        f"{name} is still being promoted after {self.wait.timeout_seconds:.0f} s; re-run the same "
                        "command to keep waiting (it will not promote twice)")

    def _promote_actions(self, group: str, name: str, server: dict, option: str, why: str) -> list[Action]:
        """Promote `name`, or only wait when a promotion is already under way (a crashed earlier run)."""
        target = self.azure.target
        wait = Action(f"wait until {name} is the primary and the writer endpoint {target.writer_host} serves it",
                      lambda: self._wait_primary(group, name))
        if server.get("state") == "Updating" or (server.get("replica") or {}).get("replicationState") in (
                "Updating", "Reconfiguring"):
            log.info("a promotion of %s is already under way; waiting for it instead of promoting again", name)
            return [wait]
        return [Action(f"promote {name} to primary server (switchover, {option}); the writer endpoint "
                       f"{target.writer_host} moves to it", lambda: self.azure.promote(group, name, option),
                       question=f"promote {name} to be the tracking database of stack {target.stack} ({why})"),
                wait]

    def _verify(self, group: str, name: str) -> None:
        members = self.azure.writer_members(group, name)
        if not members or members[0] != name:
            raise OpsError(f"verification failed: the writer endpoint {self.azure.target.writer_host} serves "
                           f"{members or 'nothing'}, not {name}")
        log.info("verified: %s is primary and the writer endpoint serves it", name)

    # ------------------------------------------------------------------------------------------ failover

    def failover(self) -> int:
        target = self.azure.target
        group, name = target.dr_resource_group, target.replica_server
        replica = self.azure.server(group, name)
        if replica is None:
            raise OpsError(f"replica {name} not found in {target.dr_region}: nothing to promote")
        lag: Optional[float] = None
        actions: list[Action] = []
        if role(replica) == "Primary":
            members = self.azure.writer_members(group, name) or []
            if members[:1] == [name]:
                print(f"nothing to do: {name} in {target.dr_region} is already the primary and "
                      f"{target.writer_host} serves it")
                return EXIT_OK
            actions.append(Action(f"wait until the writer endpoint {target.writer_host} serves {name}",
                                  lambda: self._wait_primary(group, name)))
        elif is_replica(replica):
            source = str(replica.get("sourceServerResourceId") or "").rstrip("/").split("/")[-1]
            if source != target.primary_server:
                raise OpsError(f"{name} replicates from {source or 'nothing'}, not from {target.primary_server}: "
                               "refusing to promote the wrong replica")
            if replica.get("state") != "Updating":
                lag = self.bounded_lag(name, self.azure.replica_lag_seconds(group, name), target.rpo_seconds, "RPO")
            actions += self._promote_actions(group, name, replica, "Forced", "the primary region is lost")
        else:
            raise OpsError(f"{name} is a standalone server outside the replication set: the writer endpoint cannot "
                           "follow it; fail over by hand (see docs/dr.md)")
        if not self.carry_out(actions, target.stack):
            return EXIT_OK
        self._verify(group, name)
        print(f"failover complete for stack {target.stack}: the tracking database is now {name} in "
              f"{target.dr_region}, behind {target.writer_host}")
        print_objectives(target, "unknown" if lag is None else f"{lag:g} s", self.elapsed())
        print(f"  online store: Managed Redis active geo-replication keeps {dr_redis_database_id(target) or '-'} "
              "writable; point the feature server at the DR cluster's host (onlineStoreReplicaHost)")
        print(f"  images: {target.registry} is geo-replicated; pulls go to the {target.dr_region} replica by "
              "themselves (same login server)")
        return EXIT_OK

    # ------------------------------------------------------------------------------------------ failback

    def failback(self) -> int:
        target = self.azure.target
        primary = self.azure.server(target.resource_group, target.primary_server)
        dr_server = self.azure.server(target.dr_resource_group, target.replica_server)
        if role(primary) == "Primary" and is_replica(dr_server):
            print(f"nothing to fail back: {target.primary_server} in {target.region} is the primary and "
                  f"{target.replica_server} replicates it")
            return EXIT_OK
        if primary is None or not is_replica(primary):
            raise OpsError(
                f"{target.primary_server} in {target.region} is {'missing' if primary is None else role(primary)}, "
                f"not a replica of {target.replica_server}: refusing to fail back. Re-create it as a replica "
                "first (docs/dr.md, failback step 1), then re-run")
        if primary.get("state") != "Updating":
            self.refuse_while_behind(target.primary_server,
                                     self.azure.replica_lag_seconds(target.resource_group, target.primary_server))
        actions = self._promote_actions(target.resource_group, target.primary_server, primary, "Planned",
                                        f"switch back to {target.region}; writes are stopped")
        if not self.carry_out(actions, target.stack):
            return EXIT_OK
        self._verify(target.resource_group, target.primary_server)
        print(f"failback complete: {target.primary_server} in {target.region} is primary again and "
              f"{target.replica_server} is its replica (switchover keeps the set). Start the tracking server "
              f"again; `make dr-status STACK={target.stack}` until HEALTHY")
        return EXIT_OK
