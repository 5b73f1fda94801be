"""RDS databases present a server certificate from a current CA, so clients can verify it.

rds-ca-2019 expired in August 2024: clients that verify the server (sslmode=verify-full, as
MLflow's SQLAlchemy URL does) fail against it, and clients that stop verifying lose TLS's point.
The CAs RDS issues today (RDS User Guide, "Using SSL/TLS to encrypt a connection"): rds-ca-rsa2048-g1,
rds-ca-rsa4096-g1, rds-ca-ecc384-g1. Unset means the region's default, which AWS has moved over time.
"""
from __future__ import annotations

from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_one_of

CURRENT_CAS = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")

RULE = ResourceRule(
    name="aws-rds-database-require-current-ca",
    description="RDS database instances must pin a current certificate authority (rds-ca-rsa2048-g1, -rsa4096-g1, -ecc384-g1).",
    severity="medium",
    enforcement="mandatory",
    remediation="Set ca_cert_identifier='rds-ca-rsa2048-g1' and ship the matching CA bundle to clients.",
    frameworks=SOC2("CC6.7") + ISO27001("A.8.24") + PCI_DSS("4.2.1"),
    tags=("rds", "tls"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=require_one_of("caCertIdentifier", CURRENT_CAS,
                         "pin a current CA; unset follows the region's default, which has been an expiring CA.",
                         case_sensitive=True),
)
