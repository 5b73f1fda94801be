"""Container registries have the admin user disabled.

The admin user is one shared username with two static passwords that can push and pull every
repository; it bypasses Entra ID and its use cannot be attributed. Nodes pull with the kubelet
identity (AcrPull), CI pushes with a federated identity.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_false

from .._azure import azure_types


RULE = ResourceRule(
    name="azure-containerregistry-registry-disable-admin-user",
    description="Container registries must disable the admin user.",
    severity="high",
    remediation="Set adminUserEnabled=False; grant AcrPull to the kubelet identity and AcrPush to CI's federated identity.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.2.2"),
    enforcement="mandatory",
    tags=("acr", "identity"),
    resource_types=azure_types("azure-native:containerregistry:Registry"),
    check=require_false("adminUserEnabled", "a shared static credential can push and pull every image."),
)
