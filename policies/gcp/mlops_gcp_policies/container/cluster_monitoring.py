"""GKE clusters send system metrics to Cloud Monitoring (on by default; must stay on).

Monitoring is off when ``monitoringService`` is "none" or ``monitoringConfig.enableComponents`` is an
empty list. The platform's node and GPU alerts (components/monitoring/gcp.py) read these metrics.
"""
from mlops_policy import ISO27001, SOC2, ResourceRule, as_list, cannot_check, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import path


def check(resource, config):
    service = resource.props.get("monitoringService")
    components = path(resource.props.get("monitoringConfig"), "enableComponents")
    if is_unknown(service) or is_unknown(components):
        yield cannot_check("monitoringService or monitoringConfig.enableComponents")
    elif isinstance(service, str) and service.strip().lower() == "none":
        yield "monitoringService is \"none\": node and cluster metrics (and the alerts built on them) are missing."
    elif components is not None and "SYSTEM_COMPONENTS" not in as_list(components):
        yield "monitoringConfig.enableComponents lacks SYSTEM_COMPONENTS: node and cluster metrics are not collected."


RULE = ResourceRule(
    name="gcp-container-cluster-enable-cloud-monitoring",
    description="GKE clusters keep Cloud Monitoring of system components on.",
    severity="low",
    remediation="Leave monitoring_service unset and include SYSTEM_COMPONENTS in monitoring_config.enable_components.",
    frameworks=CIS_GKE("5.7.1") + SOC2("CC7.2", "A1.1") + ISO27001("A.8.16"),
    enforcement="advisory",  # operations: metrics feed alerts, they do not protect data
    tags=("gke", "monitoring"),
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
