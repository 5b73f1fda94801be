"""AKS clusters run on a tier with an uptime SLA (Standard or Premium).

The Free tier's control plane has no SLA and is sized for small clusters; the API server answers
every training job's pod creation and the controllers that restart evicted spot pods. Advisory:
dev stacks run Free on purpose (cost); prod sets Standard.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, require_one_of

from .._azure import azure_types

RULE = ResourceRule(
    name="azure-containerservice-managedcluster-require-paid-tier",
    description="AKS clusters should use the Standard or Premium tier (uptime SLA).",
    severity="low",
    remediation="Set sku={'name': 'Base', 'tier': 'Standard'} (the default for mlops:environment prod).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.14"),
    enforcement="advisory",
    tags=("aks", "resilience"),
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=require_one_of("sku.tier", ("Standard", "Premium"), "the control plane has no uptime SLA.", absent="Free"),
)
