"""Config sections about getting the platform deployed and its alerts delivered: the Azure deployer's
settings (``mlops:azure``) and the mail relay for in-cluster alerts (``mlops:monitoring.alertSmtp``).

Part of the model in ``stacks/config.py`` (kept apart so that file stays one screenful per concern).
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field

from stacks.catalog import machine_type_problem
from stacks.config_base import ConfigModel


GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class EntraPrincipal(ConfigModel):
    """A Microsoft Entra principal by object id (a group is the usual choice for operators)."""

    object_id: str = Field(pattern=GUID_PATTERN)
    # The PostgreSQL role name it gets (operators log in with it as the user name).
    principal_name: str = Field(pattern=r"^[^\s'\"]{1,128}$")
    principal_type: Literal["group", "user", "servicePrincipal"] = "group"


class PlatformPool(ConfigModel):
    """The on-demand AKS User pool the platform's services run on (the System pool is tainted for AKS's
    critical add-ons only). Unset keys take the environment's default (``PLATFORM_POOL_DEFAULTS``)."""

    instance_type: Optional[str] = None  # None = cluster.systemNodeInstanceType (or the cloud default)
    min_nodes: Optional[int] = Field(default=None, ge=1, le=100)
    max_nodes: Optional[int] = Field(default=None, ge=1, le=100)


# (minNodes, maxNodes) per environment: dev one node that grows for a rollout; staging/prod one node per zone
# (the platform's PodDisruptionBudgets and topology spread need more than one) and room to double.
PLATFORM_POOL_DEFAULTS = {"dev": (1, 3), "staging": (2, 6), "prod": (3, 6)}


class AzureConfig(ConfigModel):
    """Azure-only settings (``mlops:azure``); see docs/first-deploy.md."""

    # How the Kubernetes provider signs in to AKS (kubelogin login mode): azurecli (the deployer's
    # `az login`, the default), workloadidentity (CI with federated credentials), spn (service
    # principal: secret in AZURE_CLIENT_SECRET), msi (a managed identity on the runner).
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn", "msi"] = "azurecli"
    # Entra administrator of the tracking database; None = the deploying principal.
    postgres_entra_admin: Optional[EntraPrincipal] = None
    platform_pool: PlatformPool = PlatformPool()
    # Microsoft Defender for Containers on the deploying subscription (image vulnerability scanning of the
    # registry, agentless Kubernetes discovery): a subscription-wide plan billed per vCore of every AKS node
    # there (docs/azure.md "Image scanning"). Turn it off only where the subscription's Defender plans are owned centrally,
    # and waive azure-security-pricing-enable-defender-for-containers in mlops:waivers saying so.
    defender_for_containers: bool = True


class AlertSmtp(ConfigModel):
    """The mail relay Alertmanager sends ``alertEmails`` through (Azure and GCP have no notification
    API Alertmanager can post to with workload identity; AWS publishes to SNS instead)."""

    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:\d{2,5}$")  # host:port, e.g. smtp.azurecomm.net:587
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the From address
    # SMTP AUTH user; its password is the secret config key mlops:alertSmtpPassword. None: the relay
    # admits the cluster's egress addresses without authentication.
    username: Optional[str] = Field(default=None, min_length=1)
    require_tls: bool = True


def platform_pool_size(cfg: Any) -> tuple[str, int, int]:
    """(instance type, minNodes, maxNodes) of the platform pool: configured, else the environment's default;
    a configured minNodes above the default maximum raises the maximum with it."""
    pool = cfg.azure.platform_pool
    default_min, default_max = PLATFORM_POOL_DEFAULTS[cfg.environment]
    low = pool.min_nodes or default_min
    return (pool.instance_type or cfg.system_node_instance_type, low,
            pool.max_nodes or max(default_max, low))


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

    pool = cfg.azure.platform_pool
    if pool.min_nodes is not None and pool.max_nodes is not None and pool.min_nodes > pool.max_nodes:
        problems.append((("azure", "platformPool", "maxNodes"), pool.max_nodes, f"must be >= minNodes ({pool.min_nodes})"))
    type_problem = machine_type_problem("azure", pool.instance_type) if cloud_known and pool.instance_type \
        and cfg.cloud == "azure" else None
    if type_problem:
        problems.append((("azure", "platformPool", "instanceType"), pool.instance_type, type_problem))
    if cloud_known and cfg.cloud != "azure" and "azure" in cfg.model_fields_set:
        problems.append((("azure",), cfg.azure.model_dump(by_alias=True, exclude_defaults=True),
                         f"is for azure stacks only (this stack's cloud is {cfg.cloud}); remove it"))
    return problems
