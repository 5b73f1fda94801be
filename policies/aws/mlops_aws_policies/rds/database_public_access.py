"""RDS instances (incl. Aurora cluster members) must not get a public endpoint."""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown


def check(resource, config):
    public = resource.props.get("publiclyAccessible")
    if is_unknown(public):
        yield cannot_check("publiclyAccessible")
    elif public is True:
        yield "publiclyAccessible is true: the database gets a public DNS name and IP address."


RULE = ResourceRule(
    name="aws-rds-database-disallow-public-access",
    description="RDS database instances must not be publicly accessible.",
    severity="critical",
    enforcement="mandatory",
    remediation="Set publicly_accessible=False and place the instance in private subnets (a DB subnet group "
                "without routes to an internet gateway).",
    frameworks=CIS_AWS("2.3.3") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    tags=("rds", "public-access"),
    resource_types=("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"),
    check=check,
)
