"""Alert emails on clouds without an Alertmanager-native channel (Azure, GCP): Alertmanager mails every
alert to mlops:monitoring.alertEmails through the configured SMTP relay; the password is a mounted file."""

from __future__ import annotations

import pytest
from k8s_helpers import monitoring_args, named, preview_components

from components.k8s import ALERTMANAGER_FILES_DIR
from components.k8s.monitoring import MonitoringStack, alertmanager_config
from components.monitoring import SMTP_PASSWORD_FILE, email_alert_receiver, email_alerting
from stacks.config import load_config

EMAILS = {"alertEmails": ["oncall@example.com", "ml@example.com"]}
RELAY = {"smarthost": "smtp.azurecomm.net:587", "sender": "alerts@example.com"}


def azure_cfg(monitoring, **extra):
    import json

    raw = {"mlops:cloud": "azure", "mlops:region": "westeurope", "mlops:monitoring": json.dumps(monitoring)}
    raw.update({f"mlops:{k}": v for k, v in extra.items()})
    return load_config("azure-dev", raw)


def test_every_alert_goes_to_every_alert_email_through_the_relay():
    cfg = azure_cfg({**EMAILS, "alertSmtp": RELAY})
    config = alertmanager_config(monitoring_args(alert_routes=[], **email_alerting(cfg)))
    assert config["route"]["receiver"] == "platform-alerts"  # the default route: nothing ends in "null" but Watchdog
    (receiver,) = [r for r in config["receivers"] if r["name"] == "platform-alerts"]
    assert [(c["to"], c["smarthost"], c["from"], c["require_tls"]) for c in receiver["email_configs"]] == [
        ("oncall@example.com", "smtp.azurecomm.net:587", "alerts@example.com", True),
        ("ml@example.com", "smtp.azurecomm.net:587", "alerts@example.com", True)]
    assert all("auth_username" not in c for c in receiver["email_configs"])  # relay admits the cluster by address


def test_smtp_auth_password_is_a_mounted_secret_file_never_in_the_config():
    cfg = azure_cfg({**EMAILS, "alertSmtp": {**RELAY, "username": "mlops-acs.app.tenant"}},
                    alertSmtpPassword="s3cr3t-smtp-password")
    receiver = email_alert_receiver(tuple(cfg.monitoring.alert_emails), cfg.monitoring.alert_smtp)
    assert {c["auth_password_file"] for c in receiver["email_configs"]} == {f"{ALERTMANAGER_FILES_DIR}/{SMTP_PASSWORD_FILE}"}
    assert "s3cr3t" not in repr(receiver)

    # (the password Output belongs to the preview's run: build the args inside the program)
    result = preview_components(lambda opts: MonitoringStack(
        "monitoring", monitoring_args(alert_routes=[], **email_alerting(cfg)), opts=opts))
    secret = named(result, "kubernetes:core/v1:Secret", "alertmanager-files", "monitoring")
    assert secret["inputs"]["stringData"] == {SMTP_PASSWORD_FILE: "s3cr3t-smtp-password"}
    assert result.is_secret(secret["urn"], "stringData")
    release = result.one("kubernetes:helm.sh/v3:Release")
    assert release["inputs"]["values"]["alertmanager"]["alertmanagerSpec"]["secrets"] == ["alertmanager-files"]
    assert secret["urn"] in release["dependencies"]  # mounted by the operator: must exist first
    assert "s3cr3t" not in repr(release["inputs"])


def test_no_alert_emails_means_no_email_receiver():
    assert email_alerting(azure_cfg({})) == {}
    assert email_alert_receiver((), None) is None
    with pytest.raises(ValueError, match="need an SMTP relay"):
        email_alert_receiver(("oncall@example.com",), None)
