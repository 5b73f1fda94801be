"""Azure ML workspaces must encrypt their metadata and artifacts with a customer-managed key.

Workspaces of kind ``Project`` use their hub's encryption, so the rule checks the hub.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_set, is_unknown

from .._azure import azure_types, except_project_workspaces, lower


@except_project_workspaces
def check(resource, config):
    encryption = resource.props.get("encryption")
    if is_unknown(encryption):
        yield cannot_check("encryption")
        return
    status = get(encryption, "status")
    if is_unknown(status):
        yield cannot_check("encryption.status")
    elif lower(status) != "enabled":
        yield (f"encryption.status is {status or 'not set'}: workspace data is encrypted with Microsoft-managed keys.")
    elif not is_set(get(encryption, "keyVaultProperties.keyIdentifier")):
        yield "encryption.status is Enabled but encryption.keyVaultProperties.keyIdentifier is not set."


RULE = ResourceRule(
    name="azure-machinelearningservices-workspace-enable-cmk-encryption",
    description="Azure Machine Learning workspaces encrypt data with a customer-managed key from Key Vault.",
    severity="medium",
    remediation="Set encryption={'status': 'Enabled', 'keyVaultProperties': {'keyIdentifier': <key URI>, "
                "'keyVaultArmId': <vault id>}} when creating the workspace (it cannot be added later).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("machine-learning", "encryption"),
    resource_types=azure_types("azure-native:machinelearningservices:Workspace"),
    check=check,
)
