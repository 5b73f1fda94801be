"""Kubernetes Secrets in etcd must be encrypted with a Cloud KMS key (application-layer encryption)."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_set, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import path


def check(resource, config):
    encryption = resource.props.get("databaseEncryption")
    state = path(encryption, "state")
    if is_unknown(encryption) or is_unknown(state):
        yield cannot_check("databaseEncryption.state")
    elif not isinstance(state, str) or state.upper() != "ENCRYPTED":
        yield (f"databaseEncryption.state is {state or 'not set'}: Secrets are stored in etcd with Google's "
               "default encryption only.")
    elif not is_set(path(encryption, "keyName")):
        yield "databaseEncryption.state is ENCRYPTED but databaseEncryption.keyName is not set."


RULE = ResourceRule(
    name="gcp-container-cluster-enable-secrets-encryption",
    description="GKE clusters encrypt Kubernetes Secrets at the application layer with a Cloud KMS key.",
    severity="high",
    remediation="Set database_encryption={'state': 'ENCRYPTED', 'key_name': key.id} with a key in the cluster's "
                "region, and grant the GKE service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it.",
    frameworks=CIS_GKE("5.3.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    enforcement="mandatory",
    tags=("gke", "encryption"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
