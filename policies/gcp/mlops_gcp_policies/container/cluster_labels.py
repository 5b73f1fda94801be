"""GKE clusters carry resource labels, so cost reports and inventories attribute them to an owner.

Labels count from the cluster's ``resourceLabels`` and from the provider's ``defaultLabels`` (pulumi-gcp
applies those to every labelled resource). ``requiredLabels`` (config) names keys that must be there.
"""
from mlops_policy import SOC2, ISO27001, ResourceRule, cannot_check, is_unknown

REQUIRED: list = []


def check(resource, config):
    own = resource.props.get("resourceLabels")
    default = resource.provider_props.get("defaultLabels")
    if is_unknown(own) or is_unknown(default):
        yield cannot_check("resourceLabels")
        return
    labels = {**(default if isinstance(default, dict) else {}), **(own if isinstance(own, dict) else {})}
    if not labels:
        yield "the cluster has no resourceLabels (and the provider no defaultLabels): its cost and owner are unattributed."
        return
    missing = [k for k in config.get("requiredLabels") or REQUIRED if k not in labels]
    if missing:
        yield f"resourceLabels lack {', '.join(missing)}."


RULE = ResourceRule(
    name="gcp-container-cluster-require-resource-labels",
    description="GKE clusters carry resource labels (their own or the provider's default labels).",
    severity="low",
    remediation="Set resource_labels on the cluster, or default_labels on the provider (the platform sets "
                "component, environment, owner and managed-by).",
    frameworks=SOC2("CC2.1") + ISO27001("A.5.9"),
    enforcement="advisory",  # inventory hygiene
    tags=("gke", "inventory"),
    config={"requiredLabels": {"type": "array", "items": {"type": "string"}, "default": REQUIRED,
                               "description": "Label keys every cluster must carry."}},
    resource_types=("gcp:container/cluster:Cluster",),
    check=check,
)
