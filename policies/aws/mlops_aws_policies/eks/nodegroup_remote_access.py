"""EKS managed node groups do not open SSH to the internet.

With ``remoteAccess.ec2SshKey`` and no ``sourceSecurityGroupIds``, EKS opens port 22 on the nodes
to 0.0.0.0/0. Nodes are reached through SSM Session Manager (the node role carries
AmazonSSMManagedInstanceCore), so no node group needs remoteAccess at all.
"""
from __future__ import annotations

from mlops_policy import CIS_AWS, ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, get, is_unknown


def check(resource, config):
    remote = resource.props.get("remoteAccess")
    if is_unknown(remote):
        yield cannot_check("remoteAccess")
        return
    if not remote or get(remote, "ec2SshKey") in (None, ""):
        return
    sources = get(remote, "sourceSecurityGroupIds")
    if is_unknown(sources):
        yield cannot_check("remoteAccess.sourceSecurityGroupIds")
    elif not as_list(sources):
        yield ("remoteAccess sets an SSH key without sourceSecurityGroupIds: EKS opens port 22 on every node to "
               "0.0.0.0/0.")


RULE = ResourceRule(
    name="aws-eks-nodegroup-disallow-open-ssh",
    description="EKS node groups must not allow SSH from 0.0.0.0/0 (remoteAccess with a key and no source security groups).",
    severity="critical",
    enforcement="mandatory",
    remediation="Remove remote_access and use SSM Session Manager; if SSH is required, set "
                "remote_access.source_security_group_ids to a bastion's group.",
    frameworks=CIS_AWS("5.2") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.3.1"),
    tags=("eks", "network", "public-access"),
    resource_types=("aws:eks/nodeGroup:NodeGroup",),
    check=check,
)
