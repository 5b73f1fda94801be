"""A workload under default-deny egress can reach its cloud's identity endpoint and the services its config names.

Workload identity only works if the pod can fetch a token: on GKE from the metadata server
(169.254.169.254:80 with Dataplane V2, 169.254.169.252:988 otherwise, read from the cluster's
``datapathProvider``), on EKS from STS over HTTPS, on AKS from Entra ID (login.microsoftonline.com,
public, 443). The services come from the workload's plain config (container args and env values,
mounted ConfigMaps): PostgreSQL URIs (their port, 5432 by default), Redis connection strings,
object-store URLs and cloud-API online stores (443). Secret values are not read.
Workloads with no NetworkPolicy restricting their egress pass (nothing blocks them).
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, SOC2, StackRule, violation

from .._egress import allows, egress_rules, identity_cloud, identity_needs, service_needs, workloads


def check(stack, config):
    for pods in workloads(stack):
        rules = egress_rules(stack, pods)
        if rules is None:
            continue
        missing = []
        cloud = identity_cloud(stack, pods)
        if cloud is not None:
            choices = identity_needs(stack, cloud)
            if not any(allows(rules, need) for need in choices):
                missing.append(" or ".join(need.describe() for need in choices))
        missing += [need.describe() for need in service_needs(pods) if not allows(rules, need)]
        if missing:
            name = f"{pods.namespace}/{pods.resource.name}"
            yield violation(f"{name}: its NetworkPolicies block egress to {'; '.join(missing)}.", pods.resource)


RULE = StackRule(
    name="kubernetes-networkpolicy-workload-allow-required-egress",
    description="Workloads under default-deny egress may reach their workload-identity endpoint and the services their config names.",
    severity="high",
    enforcement="mandatory",
    remediation="Add an egress rule for the named destination and port to a NetworkPolicy selecting the pods (GKE: "
                "ClusterBaselineArgs.identity_endpoints from the cluster; databases: the component's database_cidrs).",
    frameworks=CIS_KUBERNETES("5.3.2") + SOC2("A1.2") + ISO27001("A.8.20"),
    tags=("network", "workload-identity", "deployability"),
    check=check,
)
