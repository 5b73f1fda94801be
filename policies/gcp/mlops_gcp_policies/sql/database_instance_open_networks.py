"""No Cloud SQL authorized network may admit the whole internet."""
import ipaddress

from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._gcp import path


def _opens_everything(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False  # not a network at all: Cloud SQL rejects it


def check(resource, config):
    networks = path(resource.props.get("settings"), "ipConfiguration.authorizedNetworks")
    if is_unknown(networks):
        yield cannot_check("settings.ipConfiguration.authorizedNetworks")
        return
    for index, network in enumerate(networks or []):
        value = network.get("value") if isinstance(network, dict) else network
        if is_unknown(value):
            yield cannot_check(f"settings.ipConfiguration.authorizedNetworks[{index}].value")
        elif isinstance(value, str) and _opens_everything(value):
            yield (f"settings.ipConfiguration.authorizedNetworks[{index}] is {value}: any address on the internet "
                   "may connect to the instance.")


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-disallow-open-authorized-networks",
    description="Cloud SQL instances do not authorize 0.0.0.0/0 (or any /0 range) as a client network.",
    severity="critical",
    remediation="Remove the /0 entry from settings.ip_configuration.authorized_networks; connect through private IP "
                "or the Cloud SQL Auth Proxy instead.",
    frameworks=CIS_GCP("6.5") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    enforcement="mandatory",
    tags=("cloudsql", "public-exposure"),
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
