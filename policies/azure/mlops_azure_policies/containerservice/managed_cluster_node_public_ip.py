"""AKS nodes have no public IP addresses of their own.

A node with a public IP is reachable from the internet on every port its NSG (or kube-proxy's
NodePorts) leaves open, and bypasses the NAT gateway whose address partners allow-list. Read on
the cluster's inline pools and on separate AgentPool resources.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, truthy

from .._azure import AKS_TYPES, pool_check
from .._frameworks import CIS_AKS

RULE = ResourceRule(
    name="azure-containerservice-nodepool-disallow-public-ip",
    description="AKS node pools must not give nodes public IP addresses.",
    severity="high",
    remediation="Set enableNodePublicIP=False on every pool (the default) and route egress through the NAT gateway.",
    frameworks=CIS_AKS("5.4.3") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.4"),
    enforcement="mandatory",
    tags=("aks", "network", "public-access"),
    resource_types=AKS_TYPES,
    check=pool_check("enableNodePublicIP", lambda v: "is true: every node gets an internet-routable address."
                     if truthy(v) else None),
)
