"""EKS clusters envelope-encrypt Kubernetes secrets with a KMS key."""
from __future__ import annotations

from mlops_policy import CIS_EKS, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._aws import key_problem


def check(resource, config):
    encryption = resource.props.get("encryptionConfig")
    if is_unknown(encryption):
        yield cannot_check("encryptionConfig")
        return
    if not encryption:
        yield "encryptionConfig is not set: Kubernetes secrets are stored in etcd without envelope encryption."
        return
    resources = encryption.get("resources")
    if is_unknown(resources):
        yield cannot_check("encryptionConfig.resources")
    elif "secrets" not in (resources or []):
        yield "encryptionConfig.resources does not include \"secrets\"."
    problem = key_problem(get(encryption, "provider.keyArn"), "encryptionConfig.provider.keyArn")
    if problem:
        yield f"secrets encryption {problem}."


RULE = ResourceRule(
    name="aws-eks-cluster-enable-secrets-encryption",
    description="EKS clusters must envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
    severity="high",
    enforcement="mandatory",
    remediation="Set encryption_config={resources: ['secrets'], provider: {key_arn: <customer-managed key ARN>}}.",
    frameworks=CIS_EKS("5.3.1") + SOC2("CC6.1") + ISO27001("A.8.24") + PCI_DSS("3.5.1"),
    tags=("eks", "encryption"),
    resource_types=("aws:eks/cluster:Cluster",),
    check=check,
)
