"""GCP failover and failback of the tracking database: promote the Cloud SQL replica, give it backups and a
zone standby, repoint the private record MLflow uses (`tracking-db.<env>.mlops.internal`) at it, and route the
online store's app profile to the DR Bigtable cluster.

Failover calls only the DR instance, Cloud DNS (global) and Bigtable's DR side. Every run inspects the state
first and turns what is not done yet into a plan of actions (`runbook.plan`): a promotion a crashed run left
running is waited for, not requested twice; a record already pointing at the replica is left alone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from mlops_tools.cmdline import EXIT_OK
from mlops_tools.ops.common import OpsError
from mlops_tools.ops.gcp.dr.calls import GcpCalls, is_replica, master_of, private_ip
from mlops_tools.ops.gcp.dr.target import DR_CLUSTER_SUFFIX
from mlops_tools.ops.runbook import Action, Wait, execute, log, print_objectives


@dataclass
class GcpRunbook:
    gcp: GcpCalls
    wait: Wait
    assume_yes: bool
    accept_data_loss: bool = False
    max_switch_lag_seconds: float = 60.0
    dry_run: bool = False
    started: Optional[float] = field(default=None)

    def __post_init__(self) -> None:
        self.started = self.wait.clock() if self.started is None else self.started

    # --- waiting on Google's operations -----------------------------------------------------------

    def _wait_sql(self, operation: dict[str, Any], what: str) -> None:
        latest = dict(operation)

        def done() -> bool:
            latest.update(self.gcp.operation(operation["name"]))
            return latest.get("status") == "DONE"

        self.wait.until(f"{what} (operation {operation['name']})", done,
                        f"{what} is still running after {self.wait.timeout_seconds:.0f} s; re-run the same command "
                        "to keep waiting (it will not start it twice)")
        errors = (latest.get("error") or {}).get("errors") or []
        if errors:
            raise OpsError(f"{what} failed: " + "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
                           + " (re-run the same command to retry)")

    def _wait_dns(self, change: dict[str, Any]) -> None:
        self.wait.until(f"Cloud DNS change {change['id']} to be done",
                        lambda: self.gcp.change(change["id"]).get("status") == "done",
                        f"Cloud DNS change {change['id']} is still pending; re-run the same command to verify")

    # --- the steps --------------------------------------------------------------------------------

    def _promote_actions(self, name: str, instance: dict[str, Any], question: str) -> list[Action]:
        actions = []
        if is_replica(instance):
            running = self.gcp.running_operations(name, "PROMOTE_REPLICA")
            if running:
                log.info("a promotion of %s is already running (%s); waiting for it", name, running[0]["name"])
                actions.append(Action(f"wait for the promotion of {name} already running",
                                      lambda: self._wait_sql(running[0], f"promotion of {name}")))
            else:
                actions.append(Action(f"promote Cloud SQL replica {name} to a standalone primary",
                                      lambda: self._wait_sql(self.gcp.promote(name), f"promotion of {name}"),
                                      question=question))
        backups = (instance.get("settings") or {}).get("backupConfiguration") or {}
        if not (backups.get("enabled") and backups.get("pointInTimeRecoveryEnabled")
                and (instance.get("settings") or {}).get("availabilityType") == "REGIONAL"):
            actions.append(Action(f"turn on backups, point-in-time recovery and a zone standby (REGIONAL) for {name}",
                                  lambda: self._wait_sql(self.gcp.enable_backups(name), f"backups of {name}")))
        return actions

    def _repoint_action(self, name: str, address: Optional[str]) -> list[Action]:
        if not address:
            raise OpsError(f"{name} has no private IP address: MLflow could not reach it")
        current = self.gcp.record()
        if current and current.get("rrdatas") == [address]:
            log.info("ok: %s already points at %s", self.gcp.target.record_name, address)
            return []
        return [Action(f"repoint {self.gcp.target.record_name} from {(current or {}).get('rrdatas')} to {address} "
                       f"({name})", lambda: self._wait_dns(self.gcp.point_record_at(self.gcp.record(), address)))]

    def _route_actions(self, cluster_ids: list[str], what: str) -> list[Action]:
        if not self.gcp.target.bigtable_instance:
            return []
        profile = self.gcp.app_profile() or {}
        routing = profile.get("multiClusterRoutingUseAny")
        if routing is not None and sorted(routing.get("clusterIds") or []) == sorted(cluster_ids):
            return []

        def route() -> None:
            operation = self.gcp.route_app_profile(cluster_ids)
            if operation.get("name") and not operation.get("done"):
                self.wait.until("the app profile update", lambda: bool(
                    self.gcp.bigtable_operation(operation["name"]).get("done")), "the app profile update is pending")

        return [Action(f"route the online store's Bigtable app profile to {what}", route)]

    def _verify(self, name: str) -> str:
        instance = self.gcp.instance(name)
        address = private_ip(instance)
        if instance is None or is_replica(instance) or instance.get("state") != "RUNNABLE":
            raise OpsError(f"verification failed: {name} is not a standalone, runnable instance")
        record = self.gcp.record() or {}
        if record.get("rrdatas") != [address]:
            raise OpsError(f"verification failed: {self.gcp.target.record_name} -> {record.get('rrdatas')}, not {address}")
        log.info("verified: %s is standalone and runnable; %s -> %s", name, self.gcp.target.record_name, address)
        return address or ""

    def _lag(self, name: str, limit: float, purpose: str) -> Optional[float]:
        lag = self.gcp.replica_lag_seconds(name)
        log.info("replica lag of %s: %s", name, "no data" if lag is None else f"{lag:g} s")
        if lag is None or lag < 0 or lag > limit:
            problem = (f"no replica-lag datapoint for {name} in the last 10 minutes: data loss cannot be bounded"
                       if lag is None else f"{name} lags {lag:g} s, beyond the {purpose} of {limit:g} s")
            if not self.accept_data_loss:
                raise OpsError(f"{problem}; re-run with --accept-data-loss to promote anyway")
            log.warning("proceeding despite: %s (--accept-data-loss)", problem)
        return lag

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
                lag = self._lag(name, target.rpo_seconds, "RPO")
        actions = [*self._promote_actions(name, replica, f"promote {name} in {target.dr_region} to be the tracking "
                                                         f"database of stack {target.stack}"),
                   *self._repoint_action(name, private_ip(replica)),
                   *self._route_actions([target.cluster_id(DR_CLUSTER_SUFFIX)], f"the DR cluster only")]
        if not actions:
            print(f"nothing to do: {name} in {target.dr_region} is promoted and {target.record_name} points at it")
            return EXIT_OK
        if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
            return EXIT_OK
        address = self._verify(name)
        print(f"failover complete for stack {target.stack}: the tracking database is now {name} in "
              f"{target.dr_region}; {target.record_name} -> {address}")
        print_objectives(target, "unknown" if lag is None else f"{lag:g} s", self.wait.clock() - self.started)
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
            lag = self.gcp.replica_lag_seconds(target.primary_instance)
            if lag is None or lag < 0 or lag > self.max_switch_lag_seconds:
                raise OpsError(f"{target.primary_instance} is still behind (lag "
                               f"{'unknown' if lag is None else f'{lag:g} s'}, the switch needs <= "
                               f"{self.max_switch_lag_seconds:g} s): refusing to fail back; re-run later")
            print("manual step before the switch: stop writes to the tracking server "
                  "(`kubectl -n mlops scale deployment/mlflow --replicas=0`)", file=sys.stderr)
        actions = [*self._promote_actions(target.primary_instance, primary,
                                          f"switch the tracking database back to {target.primary_instance} in "
                                          f"{target.region} (writes are stopped)"),
                   *self._repoint_action(target.primary_instance, private_ip(primary)),
                   *self._route_actions([], "every cluster (automatic failover, as deployed)")]
        if not execute(actions, stack=target.stack, dry_run=self.dry_run, assume_yes=self.assume_yes):
            return EXIT_OK
        self._verify(target.primary_instance)
        print(f"failback complete: {target.primary_instance} in {target.region} serves the tracking server again. "
              f"Manual: start the tracking server; {target.replica_instance} is now standalone: delete it and "
              f"`pulumi up` to re-create the DR replica, then `make dr-status STACK={target.stack}` until HEALTHY")
        return EXIT_OK
