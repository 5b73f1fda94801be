"""Cloud SQL instances must have no public IPv4 address."""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._gcp import path


def check(resource, config):
    enabled = path(resource.props.get("settings"), "ipConfiguration.ipv4Enabled")
    if is_unknown(enabled):
        yield cannot_check("settings.ipConfiguration.ipv4Enabled")
    elif enabled is None:
        yield "settings.ipConfiguration.ipv4Enabled is not set, which defaults to true: the instance gets a public IP."
    elif truthy(enabled):
        yield "settings.ipConfiguration.ipv4Enabled is true: the instance has a public IP address."


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-disallow-public-ip",
    description="Cloud SQL instances have no public IP address (private IP or Private Service Connect only).",
    severity="high",
    remediation="Set settings.ip_configuration={'ipv4_enabled': False, 'private_network': <VPC self link>} "
                "(after a private services access connection) or use psc_configs.",
    frameworks=CIS_GCP("6.6") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("cloudsql", "public-exposure"),
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
