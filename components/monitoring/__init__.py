"""Cloud-side monitoring: an encrypted alert channel, alarms on what can break the platform, a
dashboard, and a budget. (In-cluster Prometheus/Grafana are ``components/k8s``' MonitoringStack;
its Alertmanager can publish into the same channel.)

Contract (every cloud's implementation exposes these outputs as attributes):

- ``alert_topic``: the notification channel's id (AWS: SNS topic ARN).
- ``dr_alert_topic``: the DR region's channel when DR is on (alarms on DR-region metrics must
  live in that region), else None.
- ``alarm_names``: every alarm created, by purpose (``db-cpu``, ``db-free-storage``, ...).
- ``dashboard_name``: the platform dashboard.
- ``budget_name``: the monthly cost budget (filtered by the ``environment`` cost-allocation tag).
- ``alert_receiver``: the body (``config``) of a ``components.k8s.AlertReceiver`` that publishes
  into the channel, and
  ``alertmanager_role`` the identity Alertmanager's service account needs (both None when no
  workload identity was provided).

What is alarmed, and why these signals:

- database CPU, free storage, connections: the tracking server stops when any saturates;
- DR replica lag above half the RPO: the replica is falling behind what the runbook promises;
- object replication latency / failures: same promise for artifacts and the feature store;
- interruption queue depth and age: the spot-interruption consumer is not draining warnings;
- system node status checks and unschedulable pods: the cluster cannot run platform pods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import pulumi

from components.k8s import ALERTMANAGER_FILES_DIR, AlertReceiver

SMTP_PASSWORD_FILE = "smtp-password"


@dataclass(frozen=True)
class MonitoringArgs:
    """What every cloud needs for alerts, dashboard and budget."""

    name: str  # resource-name prefix, e.g. "mlops-dev"
    environment: str  # the value of the `environment` cost-allocation tag the budget filters on
    alert_emails: tuple[str, ...]
    monthly_budget_usd: float
    # Budget notifications, as a percentage of the monthly budget.
    budget_actual_percents: tuple[int, ...] = (80, 100)
    budget_forecast_percents: tuple[int, ...] = (100,)
    db_cpu_percent: int = 80
    db_free_storage_ratio: float = 0.10  # alarm below 10% of allocated storage
    db_connections_ratio: float = 0.80  # alarm above 80% of the instance's max_connections
    interruption_queue_depth: int = 100
    interruption_queue_age_seconds: int = 300  # an interruption warning gives 120 s; 5 min means nobody is reading
    unschedulable_pods_minutes: int = 15
    rpo_minutes: Optional[int] = None  # DR replication alarms derive from it
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.monthly_budget_usd <= 0:
            raise ValueError("monthly_budget_usd must be > 0")
        for percent in (*self.budget_actual_percents, *self.budget_forecast_percents):
            if not 0 < percent <= 1000:
                raise ValueError(f"budget threshold {percent}% is out of range")

    @classmethod
    def from_config(cls, cfg, name: str, tags: Mapping[str, str]) -> "MonitoringArgs":
        return cls(name=name, environment=cfg.environment, alert_emails=tuple(cfg.monitoring.alert_emails),
                   monthly_budget_usd=cfg.monitoring.monthly_budget_usd,
                   rpo_minutes=cfg.dr.rpo_minutes if cfg.dr.enabled else None, tags=dict(tags))


def email_alert_receiver(alert_emails: tuple[str, ...], smtp: Any) -> Optional[dict[str, Any]]:
    """An Alertmanager receiver body that mails every alert email through ``smtp``
    (``stacks.config_delivery.AlertSmtp``); None without emails. The SMTP password is never in the config:
    Alertmanager reads it from ``SMTP_PASSWORD_FILE`` in its mounted files Secret."""
    if not alert_emails:
        return None
    if smtp is None:
        raise ValueError("alert emails need an SMTP relay (mlops:monitoring.alertSmtp)")
    relay: dict[str, Any] = {"smarthost": smtp.smarthost, "from": smtp.sender, "require_tls": smtp.require_tls,
                             "send_resolved": True}
    if smtp.username:
        relay.update(auth_username=smtp.username, auth_password_file=f"{ALERTMANAGER_FILES_DIR}/{SMTP_PASSWORD_FILE}")
    return {"email_configs": [{"to": email, **relay} for email in alert_emails]}


def email_alerting(cfg: Any) -> dict[str, Any]:
    """``MonitoringStackArgs`` settings that route every in-cluster alert to ``mlops:monitoring.alertEmails``
    through ``mlops:monitoring.alertSmtp`` (Azure, GCP): the receiver, and the password file it reads."""
    receiver = email_alert_receiver(tuple(cfg.monitoring.alert_emails), cfg.monitoring.alert_smtp)
    if receiver is None:
        return {}
    files = {SMTP_PASSWORD_FILE: pulumi.Output.secret(cfg.alert_smtp_password)} if cfg.alert_smtp_password else {}
    return {"alert_receivers": [AlertReceiver("platform-alerts", receiver)], "alertmanager_files": files}
