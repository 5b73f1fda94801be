"""Azure ML workspaces must be reachable through private endpoints only.

Workspaces of kind ``Project`` inherit networking from their hub, so the rule checks the hub.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._azure import azure_types, except_project_workspaces, lower


@except_project_workspaces
def check(resource, config):
    access = resource.props.get("publicNetworkAccess")
    behind_vnet = resource.props.get("allowPublicAccessWhenBehindVnet")
    if is_unknown(access):
        yield cannot_check("publicNetworkAccess")
    elif lower(access) != "disabled":
        yield (f"publicNetworkAccess is {access or 'not set (Enabled)'}: the workspace API, studio and its "
               "compute are reachable from the internet.")
    if is_unknown(behind_vnet):
        yield cannot_check("allowPublicAccessWhenBehindVnet")
    elif behind_vnet is not None and truthy(behind_vnet):
        yield "allowPublicAccessWhenBehindVnet is true: public access stays open next to the private endpoint."


RULE = ResourceRule(
    name="azure-machinelearningservices-workspace-disallow-public-access",
    description="Azure Machine Learning workspaces disable public network access.",
    severity="high",
    remediation="Set publicNetworkAccess='Disabled' (and leave allowPublicAccessWhenBehindVnet unset) and reach "
                "the workspace through a private endpoint or its managed network.",
    frameworks=SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("machine-learning", "public-exposure"),
    resource_types=azure_types("azure-native:machinelearningservices:Workspace"),
    check=check,
)
