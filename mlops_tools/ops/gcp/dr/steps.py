"""The GCP steps both procedures use: wait for Cloud SQL, Cloud DNS and Bigtable operations; promote an
instance (or wait for the promotion a crashed run left running) and give it backups; repoint the record;
route the online store's app profile; verify. Each step checks first and returns only the actions still needed.
"""

from __future__ import annotations

from typing import Any, Optional

from mlops_tools.ops.common import OpsError
from mlops_tools.ops.gcp.dr.calls import GcpCalls, is_replica, private_ip
from mlops_tools.ops.runbook import Action, Run, log


class GcpSteps(Run):
    """One GCP run: `calls` is the run's `GcpCalls`."""

    @property
    def gcp(self) -> GcpCalls:
        return self.calls

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
