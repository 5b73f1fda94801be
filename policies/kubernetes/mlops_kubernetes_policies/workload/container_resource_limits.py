"""Containers declare resource limits, so one workload cannot starve a node."""
from __future__ import annotations

from mlops_policy import ISO27001, SOC2, ResourceRule, cannot_check, get, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload


def check(resource, config):
    required = list(config.get("requiredLimits") or ["cpu", "memory"])
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        if label.startswith("ephemeralContainer"):
            continue  # ephemeral (debug) containers cannot have resources
        limits = get(container, "resources.limits")
        if is_unknown(limits):
            yield cannot_check(f"{label} resources.limits")
            continue
        missing = [r for r in required if (limits or {}).get(r) in (None, "")]
        if missing:
            yield f"{label} has no {' / '.join(missing)} limit."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-resource-limits",
    description="Containers must declare CPU and memory limits.",
    severity="medium",
    enforcement="advisory",
    remediation="Set resources.limits (and requests) for cpu and memory on every container and init container.",
    frameworks=SOC2("A1.1") + ISO27001("A.8.6"),
    tags=("reliability",),
    config={"requiredLimits": {
        "type": "array", "items": {"type": "string"}, "default": ["cpu", "memory"],
        "description": "Resource names every container must limit.",
    }},
    resource_types=WORKLOAD_TYPES,
    check=check,
)
