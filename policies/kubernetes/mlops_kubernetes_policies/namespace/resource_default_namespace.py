"""Objects are created in a named namespace, never in ``default``.

``default`` is where everything lands when nobody thinks about it: no Pod Security labels, no
default-deny NetworkPolicies, no quotas, and RBAC granted there reaches all of it. A namespaced object
without ``metadata.namespace`` goes to its provider's namespace (``namespace`` on the Kubernetes
provider), else to ``default``. Cluster-scoped kinds, Helm releases (their own ``namespace``
property) and the API server's own ``kubernetes`` Service and ``default`` ServiceAccount are out of scope.
"""
from __future__ import annotations

import re

from mlops_policy import CIS_KUBERNETES, ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._kinds import group_kind

CLUSTER_SCOPED = {
    ("core", "Namespace"), ("core", "Node"), ("core", "PersistentVolume"), ("core", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"), ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"), ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"), ("networking.k8s.io", "IngressClass"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"), ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("argoproj.io", "ClusterWorkflowTemplate"), ("trainer.kubeflow.org", "ClusterTrainingRuntime"),
    ("external-secrets.io", "ClusterSecretStore"), ("cert-manager.io", "ClusterIssuer"), ("karpenter.sh", "NodePool"), ("karpenter.k8s.aws", "EC2NodeClass"),
}
NOT_OBJECTS = {"helm.sh", "yaml", "kustomize"}  # Helm releases, ConfigFile/ConfigGroup, Directory: not one object
BUILT_IN = {("core", "Service", "kubernetes"), ("core", "ServiceAccount", "default")}


class NamespacedTypes(tuple):
    """Every Kubernetes object kind except the cluster-scoped ones and the multi-object resources."""

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        parsed = group_kind(token) if isinstance(token, str) else None
        return (parsed is not None and parsed[0] not in NOT_OBJECTS and (parsed[0], parsed[1]) not in CLUSTER_SCOPED
                and parsed[1] != "List")

    def type_patterns(self) -> list:
        """``__contains__`` as one regex for the offline runner's type filter (tests/policies/test_policy_types.py)."""
        not_objects = "|".join(sorted(re.escape(group) for group in NOT_OBJECTS))
        cluster = "|".join(sorted(f"{re.escape(g)}/[A-Za-z0-9]+:{re.escape(k)}(?:Patch)?$" for g, k in CLUSTER_SCOPED))
        return [f"kubernetes:(?!(?:{not_objects})/)(?!(?:{cluster}))(?![A-Za-z0-9.-]+/[A-Za-z0-9]+:List(?:Patch)?$)"
                "[A-Za-z0-9.-]+/[A-Za-z0-9]+:[A-Za-z0-9]+"]


def check(resource, config):
    group, kind, _ = group_kind(resource.type)
    namespace = get(resource.props, "metadata.namespace")
    name = get(resource.props, "metadata.name")
    if is_unknown(namespace):
        yield cannot_check("metadata.namespace")
        return
    if namespace is None:
        namespace = resource.provider_props.get("namespace")
        if is_unknown(namespace):
            yield cannot_check("the provider's namespace")
            return
    if (namespace or "default") == "default" and (group, kind, name) not in BUILT_IN:
        yield (f"{kind} {name or resource.name} is created in the default namespace"
               f"{'' if namespace else ' (no metadata.namespace, no provider namespace)'}: it gets none of the "
               "platform namespaces' Pod Security, NetworkPolicies and quotas.")


RULE = ResourceRule(
    name="kubernetes-namespace-resource-disallow-default-namespace",
    description="Namespaced objects are created in a named namespace, not in default.",
    severity="low",
    enforcement="advisory",  # hygiene: the guarantees come from the platform namespaces' own policies
    remediation="Set metadata.namespace to a platform namespace (mlops, monitoring, training, serving, node-agents), "
                "or namespace= on the Kubernetes provider.",
    frameworks=CIS_KUBERNETES("5.7.4") + SOC2("CC6.1") + ISO27001("A.8.22"),
    tags=("namespace",),
    resource_types=NamespacedTypes(("kubernetes:core/v1:ConfigMap", "kubernetes:apps/v1:Deployment")),
    check=check,
)
