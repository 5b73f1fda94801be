"""Storage accounts do not allow local users (SFTP/SSH users with their own passwords and keys).

Local users authenticate with account-local passwords or SSH keys that Entra ID neither sees nor
revokes, next to the shared-key access this platform already turns off. Unset counts as allowed
(as Checkov reads it): the account must turn the feature off explicitly.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, require_false

from .._azure import azure_types


RULE = ResourceRule(
    name="azure-storage-account-disable-local-users",
    description="Storage accounts must disable local users (isLocalUserEnabled=false).",
    severity="medium",
    remediation="Set isLocalUserEnabled=False (and isSftpEnabled=False); grant access through Entra ID roles.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.2.2"),
    enforcement="mandatory",
    tags=("storage", "identity"),
    resource_types=azure_types("azure-native:storage:StorageAccount"),
    check=require_false("isLocalUserEnabled", "local SFTP users authenticate outside Entra ID.", absent=True),
)
