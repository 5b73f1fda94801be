"""Cloud SQL instances must refuse unencrypted client connections.

``settings.ipConfiguration.sslMode`` is the current control; pulumi-gcp before v8 also had
``requireSsl`` (true meant TRUSTED_CLIENT_CERTIFICATE_REQUIRED), which older programs still send.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._gcp import path

ENCRYPTED_MODES = {"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}


def check(resource, config):
    ip = path(resource.props.get("settings"), "ipConfiguration")
    if is_unknown(ip):
        yield cannot_check("settings.ipConfiguration")
        return
    mode = path(ip, "sslMode")
    legacy = path(ip, "requireSsl")
    if is_unknown(mode):
        yield cannot_check("settings.ipConfiguration.sslMode")
    elif isinstance(mode, str) and mode:
        if mode.upper() not in ENCRYPTED_MODES:
            yield f"settings.ipConfiguration.sslMode is {mode}: clients may connect without TLS."
    elif is_unknown(legacy):
        yield cannot_check("settings.ipConfiguration.requireSsl")
    elif not (legacy is not None and truthy(legacy)):
        yield ("settings.ipConfiguration.sslMode is not set, which allows unencrypted connections: set it to "
               "ENCRYPTED_ONLY or TRUSTED_CLIENT_CERTIFICATE_REQUIRED.")


RULE = ResourceRule(
    name="gcp-sql-databaseinstance-require-ssl",
    description="Cloud SQL instances accept only TLS-encrypted connections.",
    severity="high",
    remediation="Set settings.ip_configuration.ssl_mode='ENCRYPTED_ONLY' (or 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED' "
                "when clients present certificates).",
    frameworks=CIS_GCP("6.4") + SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    enforcement="mandatory",
    tags=("cloudsql", "encryption-in-transit"),
    resource_types=("gcp:sql/databaseInstance:DatabaseInstance",),
    check=check,
)
