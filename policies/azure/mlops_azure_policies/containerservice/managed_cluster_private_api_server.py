"""Production AKS clusters must not expose the Kubernetes API server on the internet.

How the rule knows "production": the cluster's ``environment`` tag (``env`` also accepted;
tag keys are case-insensitive in Azure), compared with the ``prodEnvironments`` config
(default ``["prod", "production"]``). The platform tags every resource with
``environment: <mlops:environment>``. A cluster without such a tag is not treated as
production; set ``requireEverywhere: true`` to require a private API server on every cluster.
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, get, is_unknown, truthy

from .._azure import azure_types, tag
from .._frameworks import CIS_AKS

DEFAULT_PROD_ENVIRONMENTS = ["prod", "production"]


def check(resource, config):
    if not config.get("requireEverywhere", False):
        environment = tag(resource.props.get("tags"), "environment", "env")
        if is_unknown(environment):
            yield cannot_check("tags.environment")
            return
        prod = {str(e).lower() for e in config.get("prodEnvironments", DEFAULT_PROD_ENVIRONMENTS)}
        if not isinstance(environment, str) or environment.lower() not in prod:
            return
    private = get(resource.props, "apiServerAccessProfile.enablePrivateCluster")
    if is_unknown(private):
        yield cannot_check("apiServerAccessProfile.enablePrivateCluster")
    elif not truthy(private):
        yield ("apiServerAccessProfile.enablePrivateCluster is not true: the production cluster's API server has a "
               "public endpoint.")


RULE = ResourceRule(
    name="azure-containerservice-managedcluster-require-private-api-server",
    description="Production AKS clusters expose their API server on a private endpoint only.",
    severity="high",
    remediation="Set apiServerAccessProfile={'enablePrivateCluster': True} (and privateDNSZone) on production "
                "clusters; reach the API through the VNet, a jump host or 'az aks command invoke'.",
    frameworks=CIS_AKS("5.4.2") + SOC2("CC6.6") + ISO27001("A.8.20") + PCI_DSS("1.4.1"),
    enforcement="mandatory",
    tags=("aks", "public-exposure"),
    config={
        "prodEnvironments": {
            "type": "array", "items": {"type": "string"}, "default": DEFAULT_PROD_ENVIRONMENTS,
            "description": "Values of the cluster's 'environment' tag that mean production.",
        },
        "requireEverywhere": {
            "type": "boolean", "default": False,
            "description": "Require a private API server on every cluster, whatever its tags.",
        },
    },
    resource_types=azure_types("azure-native:containerservice:ManagedCluster"),
    check=check,
)
