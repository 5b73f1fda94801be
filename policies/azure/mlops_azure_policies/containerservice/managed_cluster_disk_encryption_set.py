"""AKS node OS and data disks must be encrypted with a customer-managed key (disk encryption set)."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, is_set

from .._azure import azure_types
from .._frameworks import CIS_AKS


def check(resource, config):
    # An unknown id (a disk encryption set created by the same program) counts as set.
    if not is_set(resource.props.get("diskEncryptionSetID")):
        yield ("diskEncryptionSetID is not set: node disks are encrypted with Microsoft-managed keys.")


RULE = ResourceRule(
    name="azure-containerservice-managedcluster-enable-disk-encryption-set",
    description="AKS clusters encrypt node disks with a customer-managed key through a disk encryption set.",
    severity="medium",
    remediation="Create an azure_native.compute.DiskEncryptionSet backed by a Key Vault key and set "
                "diskEncryptionSetID on the managed cluster.",
    frameworks=CIS_AKS("5.3.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",
    tags=("aks", "encryption"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=check,
)
