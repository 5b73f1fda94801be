"""GKE clusters do not issue a client certificate (a static, non-revocable cluster-admin credential)."""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown, truthy

from .._frameworks import CIS_GKE
from .._gcp import path


def check(resource, config):
    value = path(resource.props.get("masterAuth"), "clientCertificateConfig.issueClientCertificate")
    if is_unknown(value):
        yield cannot_check("masterAuth.clientCertificateConfig.issueClientCertificate")
    elif value is not None and truthy(value):
        yield ("masterAuth.clientCertificateConfig.issueClientCertificate is true: the cluster issues a client "
               "certificate that authenticates as an administrator and cannot be revoked.")


RULE = ResourceRule(
    name="gcp-container-cluster-disable-client-certificate",
    description="GKE clusters do not issue client certificates for authentication.",
    severity="high",
    remediation="Remove issue_client_certificate=True (the default is false); authenticate with Google identities "
                "(gke-gcloud-auth-plugin) and Workload Identity.",
    frameworks=CIS_GKE("5.8.1") + SOC2("CC6.1") + ISO27001("A.8.5") + PCI_DSS("8.3.1"),
    enforcement="mandatory",  # authentication
    tags=("gke", "identity"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
