"""Bigtable instances keep deletion protection on (pulumi-gcp's default), so a destroy cannot drop the online store."""
from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, is_unknown, truthy


def check(resource, config):
    value = resource.props.get("deletionProtection")
    if is_unknown(value):
        yield cannot_check("deletionProtection")
    elif value is not None and not truthy(value):
        yield "deletionProtection is false: a destroy or replacement deletes the instance and every table in it."


RULE = ResourceRule(
    name="gcp-bigtable-instance-enable-deletion-protection",
    description="Bigtable instances keep deletion protection enabled.",
    severity="medium",
    remediation="Remove deletion_protection=False (the default is true); dev stacks that must be destroyable "
                "turn it off deliberately (mlops:deletionProtection false).",
    frameworks=SOC2("A1.2") + ISO27001("A.8.13"),
    # Advisory: dev stacks are destroyable by design; prod is forced by the config model (deletionProtection
    # must be true in prod), which also sets Pulumi protect on every stateful resource.
    enforcement="advisory",
    tags=("bigtable", "backup"),
    resource_types=("gcp:bigtable/instance:Instance",),
    check=check,
)
