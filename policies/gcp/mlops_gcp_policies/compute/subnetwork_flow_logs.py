"""Subnets record VPC flow logs (who talked to whom, for incident response).

A ``logConfig`` block turns flow logs on in pulumi-gcp. Proxy-only and Private Service Connect
subnets (``purpose`` other than PRIVATE / PRIVATE_RFC_1918) carry no VM traffic and do not support
flow logs, so they are out of scope.
"""
from mlops_policy import CIS_GCP, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_set, is_unknown

VM_PURPOSES = {"PRIVATE", "PRIVATE_RFC_1918"}


def applies(props) -> object:
    """True for a subnet that carries VM traffic, None when its purpose is unknown."""
    purpose = props.get("purpose")
    if is_unknown(purpose):
        return None
    return purpose is None or str(purpose).upper() in VM_PURPOSES


def check(resource, config):
    relevant = applies(resource.props)
    if relevant is None:
        yield cannot_check("purpose")
        return
    log_config = resource.props.get("logConfig")
    if relevant and not is_unknown(log_config) and not is_set(log_config):
        yield "logConfig is not set: the subnet's traffic is not recorded in VPC flow logs."


RULE = ResourceRule(
    name="gcp-compute-subnetwork-enable-flow-logs",
    description="VPC subnets that carry VM traffic record VPC flow logs.",
    severity="medium",
    remediation="Set log_config={'aggregation_interval': 'INTERVAL_5_SEC', 'flow_sampling': 0.5, "
                "'metadata': 'INCLUDE_ALL_METADATA'} on the subnetwork.",
    frameworks=CIS_GCP("3.8") + SOC2("CC7.2") + ISO27001("A.8.15", "A.8.16") + PCI_DSS("10.2.1"),
    enforcement="mandatory",  # audit logging, as the other clouds' network logs
    tags=("vpc", "logging"),
    resource_types=("gcp:compute/subnetwork:Subnetwork",),
    check=check,
)
