"""A GCP resource depends, directly or through its parents, on the projects.Service that enables its API.

On a fresh project an API is off until a ``projects.Service`` turns it on; a resource created
before that fails (SERVICE_DISABLED), and the engine only orders the two when the resource
depends on the Service. Which API each type needs comes from ``mlops_policy.gcp_apis`` (the same
table the stack builder uses); a service identity needs the API named by its own ``service``.
APIs the organisation enables outside the program can be listed in ``enabledOutsideProgram``.
"""
from mlops_policy import ISO27001, SOC2, StackRule, cannot_check, is_unknown, prerequisites, violation
from mlops_policy.gcp_apis import SERVICE, SERVICE_IDENTITY, required_api


def check(stack, config):
    outside = set(config.get("enabledOutsideProgram") or [])
    services = {s.urn: s.props.get("service") for s in stack.of_type(SERVICE)}
    for resource in stack.resources:
        if not resource.type.startswith("gcp:"):
            continue
        if resource.type == SERVICE_IDENTITY and is_unknown(resource.props.get("service")):
            yield cannot_check("service", resource)
            continue
        try:
            api = required_api(resource.type, resource.props)
        except KeyError:
            yield violation(f"{resource.name}: {resource.type} is not in the API table (mlops_policy/gcp_apis.py); "
                            "add its type prefix and the API it needs.", resource)
            continue
        if api is None or api in outside or any(services.get(urn) == api for urn in prerequisites(resource)):
            continue
        yield violation(f"{resource.name} ({resource.type}) does not depend on the projects.Service enabling {api}: "
                        "on a fresh project its creation fails with SERVICE_DISABLED.", resource)


RULE = StackRule(
    name="gcp-serviceusage-resource-require-api-dependency",
    description="Every GCP resource depends, directly or through its parents, on the projects.Service that enables its API.",
    severity="high",
    enforcement="mandatory",
    remediation="Enable the API with gcp.projects.Service in the program and add it to the resource's depends_on "
                "(stacks/gcp_apis.py does this for every resource), or list the API in enabledOutsideProgram.",
    frameworks=SOC2("CC8.1") + ISO27001("A.8.32"),
    tags=("deployability", "service-usage"),
    config={"enabledOutsideProgram": {"type": "array", "items": {"type": "string"}, "default": [],
                                      "description": "API service names enabled outside the program."}},
    check=check,
)
