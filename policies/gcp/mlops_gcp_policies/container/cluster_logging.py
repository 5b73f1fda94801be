"""GKE clusters send system, workload and API-server logs to Cloud Logging (on by default; must stay on).

Logging is off when ``loggingService`` is "none" or ``loggingConfig.enableComponents`` is an empty
list; the API server's audit trail needs APISERVER among the components (Checkov only asks for
logging to be on; the platform enables SYSTEM_COMPONENTS, WORKLOADS and APISERVER).
"""
from mlops_policy import ISO27001, PCI_DSS, SOC2, ResourceRule, as_list, cannot_check, is_unknown

from .._frameworks import CIS_GKE
from .._gcp import path

REQUIRED = ("SYSTEM_COMPONENTS",)


def check(resource, config):
    service = resource.props.get("loggingService")
    components = path(resource.props.get("loggingConfig"), "enableComponents")
    if is_unknown(service) or is_unknown(components):
        yield cannot_check("loggingService or loggingConfig.enableComponents")
        return
    if isinstance(service, str) and service.strip().lower() == "none":
        yield "loggingService is \"none\": node, workload and control-plane logs are not collected."
        return
    if components is not None:
        missing = [c for c in (config.get("requiredComponents") or REQUIRED) if c not in as_list(components)]
        if missing:
            yield (f"loggingConfig.enableComponents ({', '.join(as_list(components)) or 'empty'}) lacks "
                   f"{', '.join(missing)}: those logs are not collected.")


RULE = ResourceRule(
    name="gcp-container-cluster-enable-cloud-logging",
    description="GKE clusters keep Cloud Logging on for system components (and the components the config requires).",
    severity="medium",
    remediation="Leave logging_service unset (or logging.googleapis.com/kubernetes) and set logging_config="
                "{'enable_components': ['SYSTEM_COMPONENTS', 'WORKLOADS', 'APISERVER']}.",
    frameworks=CIS_GKE("5.7.1") + SOC2("CC7.2") + ISO27001("A.8.15") + PCI_DSS("10.2.1"),
    enforcement="mandatory",  # audit logging
    tags=("gke", "logging"),
    config={"requiredComponents": {"type": "array", "items": {"type": "string"}, "default": list(REQUIRED),
                                   "description": "loggingConfig components that must be enabled when listed."}},
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
