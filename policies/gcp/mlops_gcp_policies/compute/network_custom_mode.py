"""VPC networks are custom-mode: the program declares each subnet and its range.

``autoCreateSubnetworks`` defaults to true in pulumi-gcp: an auto-mode network gets a subnet in every
region with the same fixed 10.128.0.0/9 ranges in every project (so peering and VPN overlap), none
with flow logs or Private Google Access. Legacy (subnet-less) networks cannot be created any more; a
custom-mode network is what CIS "no legacy networks" asks for today.
"""
from mlops_policy import CIS_GCP, ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy


def check(resource, config):
    value = resource.props.get("autoCreateSubnetworks")
    if is_unknown(value):
        yield cannot_check("autoCreateSubnetworks")
    elif value is None or truthy(value):
        yield ("autoCreateSubnetworks is not false (the default is true): the network creates a subnet in every region "
               "with Google's fixed ranges, without flow logs or Private Google Access.")


RULE = ResourceRule(
    name="gcp-compute-network-require-custom-mode",
    description="VPC networks are custom-mode (autoCreateSubnetworks false), never auto-mode or legacy.",
    severity="medium",
    remediation="Set auto_create_subnetworks=False and declare the subnets the platform needs.",
    frameworks=CIS_GCP("3.2") + SOC2("CC6.6") + ISO27001("A.8.22"),
    enforcement="advisory",  # network hygiene: auto-mode subnets expose nothing by themselves
    tags=("vpc",),
    resource_types=("gcp:compute/network:Network",),
    check=check,
)
