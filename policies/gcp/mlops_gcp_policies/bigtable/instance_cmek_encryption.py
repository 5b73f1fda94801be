"""Bigtable instances encrypt every cluster with a customer-managed Cloud KMS key (CMEK).

Each cluster has its own ``kmsKeyName`` (a key in the cluster's region); one cluster without it
keeps a full copy of the data under Google-managed keys. Checkov calls this "CSEK", which Bigtable
does not offer.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_set, is_unknown


def check(resource, config):
    clusters = resource.props.get("clusters")
    if is_unknown(clusters):
        yield cannot_check("clusters")
        return
    for index, cluster in enumerate(clusters or []):
        key = cluster.get("kmsKeyName") if isinstance(cluster, dict) else None
        if not is_unknown(key) and not is_set(key):
            name = cluster.get("clusterId") if isinstance(cluster, dict) else None
            yield (f"clusters[{index}]{f' ({name})' if isinstance(name, str) else ''}: kmsKeyName is not set, so "
                   "its copy of the data is encrypted with Google-managed keys.")


RULE = ResourceRule(
    name="gcp-bigtable-instance-enable-cmek-encryption",
    description="Bigtable instances encrypt every cluster with a customer-managed Cloud KMS key.",
    severity="medium",
    remediation="Set kms_key_name on every cluster (a key in that cluster's region) and grant the Bigtable service "
                "agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it.",
    frameworks=SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.6.1"),
    enforcement="mandatory",  # encryption
    tags=("bigtable", "encryption"),
    resource_types=("gcp:bigtable/instance:Instance",),
    check=check,
)
