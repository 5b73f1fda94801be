"""AKS node pools encrypt data on the VM host (encryption at host).

The OS and data disks are encrypted at rest by the storage service (with the cluster key through the
disk encryption set), but the VM's temp disk and the disk caches live on the host: without encryption
at host they hold pod scratch data, image layers and swap in clear. Read on the cluster's inline pools
and on separate AgentPool resources (Checkov CKV_AZURE_227). AKS sets it only when a pool is created,
and it needs the subscription feature Microsoft.Compute/EncryptionAtHost and a VM size that supports it.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, truthy

from .._azure import AKS_TYPES, pool_check

RULE = ResourceRule(
    name="azure-containerservice-nodepool-enable-encryption-at-host",
    description="AKS node pools must enable encryption at host (temp disks and disk caches encrypted on the host).",
    severity="medium",
    remediation="Set enableEncryptionAtHost=True on every pool at creation (register the subscription feature "
                "Microsoft.Compute/EncryptionAtHost first; an existing pool is replaced to change it).",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    enforcement="mandatory",
    tags=("aks", "encryption"),
    resource_types=AKS_TYPES,
    check=pool_check("enableEncryptionAtHost", lambda v: None if truthy(v) else
                     f"is {'not set' if v is None else v}: the temp disk and disk caches are not encrypted on the host."),
)
