"""Every VPC records its traffic with a flow log (all traffic, not only rejects).

Flow logs are the only record of which pod or node talked to which address: what an exfiltration
or lateral-movement review needs. A flow log is matched to its VPC by its vpcId (the engine's
dependency on the VPC: ids are unknown during a preview).
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, StackRule, cannot_check, is_unknown, linked_to, violation

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"


def check(stack, config):
    vpcs = stack.of_type(VPC)
    logged = {}
    for flow_log in stack.of_type(FLOW_LOG):
        for vpc in linked_to(flow_log, "vpcId", vpcs):
            logged.setdefault(vpc.urn, []).append(flow_log)
    for vpc in vpcs:
        logs = logged.get(vpc.urn, [])
        if not logs:
            yield violation(f"VPC {vpc.name} has no flow log: its network traffic is not recorded.", vpc)
            continue
        traffic = [log.props.get("trafficType") for log in logs]
        if any(is_unknown(t) for t in traffic):
            yield cannot_check("trafficType", logs[0])
        elif "ALL" not in traffic:
            yield violation(f"VPC {vpc.name}'s flow logs record only {', '.join(sorted(set(map(str, traffic))))} traffic: "
                            "accepted connections (what data left, and where to) are missing; set trafficType ALL.", vpc)


RULE = StackRule(
    name="aws-ec2-vpc-enable-flow-logs",
    description="Every VPC must have a flow log that records all traffic.",
    severity="medium",
    enforcement="mandatory",
    remediation="Add an aws.ec2.FlowLog(vpc_id=..., traffic_type='ALL') delivering to a KMS-encrypted log group "
                "(components/network does this for every VPC).",
    frameworks=CIS_AWS("3.7") + SOC2("CC7.2") + ISO27001("A.8.15", "A.8.16") + PCI_DSS("10.2.1"),
    tags=("ec2", "network", "logging"),
    resource_types=(VPC, FLOW_LOG),
    check=check,
)
