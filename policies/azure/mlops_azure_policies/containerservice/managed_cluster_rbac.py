"""AKS clusters must authorize API requests with Kubernetes RBAC."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._azure import azure_types
from .._frameworks import CIS_AKS


def check(resource, config):
    value = resource.props.get("enableRBAC")
    if is_unknown(value):
        yield cannot_check("enableRBAC")
    elif value is None:
        yield "enableRBAC is not set: state it explicitly so Kubernetes RBAC cannot be lost to an API default."
    elif not truthy(value):
        yield "enableRBAC is false: every authenticated user has unrestricted access to the Kubernetes API."


RULE = ResourceRule(
    name="azure-containerservice-managedcluster-enable-rbac",
    description="AKS clusters have Kubernetes role-based access control enabled.",
    severity="high",
    remediation="Set enableRBAC=True on the managed cluster (it can only be chosen at creation).",
    frameworks=CIS_AKS("5.5.1") + SOC2("CC6.3") + ISO27001("A.5.15") + PCI_DSS("7.2.1"),
    enforcement="mandatory",
    tags=("aks", "identity"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=check,
)
