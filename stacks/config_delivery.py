"""Config sections about getting the platform deployed and its alerts delivered: the Azure deployer's
settings (``mlops:azure``) and the mail relay for in-cluster alerts (``mlops:monitoring.alertSmtp``).

Part of the model in ``stacks/config.py`` (kept apart so that file stays one screenful per concern).
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class EntraPrincipal(_Model):
    """A Microsoft Entra principal by object id (a group is the usual choice for operators)."""

    object_id: str = Field(pattern=GUID_PATTERN)
    # The PostgreSQL role name it gets (operators log in with it as the user name).
    principal_name: str = Field(pattern=r"^[^\s'\"]{1,128}$")
    principal_type: Literal["group", "user", "servicePrincipal"] = "group"


class AzureConfig(_Model):
    """Azure-only settings (``mlops:azure``); see docs/first-deploy.md."""

    # How the Kubernetes provider signs in to AKS (kubelogin login mode): azurecli (the deployer's
    # `az login`, the default), workloadidentity (CI with federated credentials), spn (service
    # principal: secret in AZURE_CLIENT_SECRET), msi (a managed identity on the runner).
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn", "msi"] = "azurecli"
    # Entra administrator of the tracking database; None = the deploying principal.
    postgres_entra_admin: Optional[EntraPrincipal] = None


class AlertSmtp(_Model):
    """The mail relay Alertmanager sends ``alertEmails`` through (Azure and GCP have no notification
    API Alertmanager can post to with workload identity; AWS publishes to SNS instead)."""

    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:\d{2,5}$")  # host:port, e.g. smtp.azurecomm.net:587
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the From address
    # SMTP AUTH user; its password is the secret config key mlops:alertSmtpPassword. None: the relay
    # admits the cluster's egress addresses without authentication.
    username: Optional[str] = Field(default=None, min_length=1)
    require_tls: bool = True


def delivery_problems(cfg: Any, cloud_known: bool) -> list[tuple[tuple[Any, ...], Any, str]]:
    """(key path, value, what is allowed) for the rules above that need more than one key."""
    problems: list[tuple[tuple[Any, ...], Any, str]] = []
    smtp = cfg.monitoring.alert_smtp
    if cloud_known and cfg.cloud in ("azure", "gcp") and cfg.monitoring.alert_emails and smtp is None:
        problems.append((("monitoring", "alertSmtp"), None,
                         f"is required on {cfg.cloud} when alertEmails is set: Alertmanager mails the in-cluster alerts "
                         "through this relay ({smarthost, sender, username?})"))
    if smtp is not None and smtp.username and not cfg.alert_smtp_password:
        problems.append((("alertSmtpPassword",), None,
                         "is required when monitoring.alertSmtp.username is set (pulumi config set --secret "
                         "mlops:alertSmtpPassword ...)"))
    if cfg.alert_smtp_password and (smtp is None or not smtp.username):
        problems.append((("alertSmtpPassword",), "[secret]", "is only used with monitoring.alertSmtp.username; remove it"))

    if cloud_known and cfg.cloud != "azure" and "azure" in cfg.model_fields_set:
        problems.append((("azure",), cfg.azure.model_dump(by_alias=True, exclude_defaults=True),
                         f"is for azure stacks only (this stack's cloud is {cfg.cloud}); remove it"))
    return problems
