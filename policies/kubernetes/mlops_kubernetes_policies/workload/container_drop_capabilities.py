"""Containers drop ALL Linux capabilities and add back at most NET_BIND_SERVICE (Restricted PSS)."""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._workloads import WORKLOAD_TYPES, Workload

ALLOWED_ADDS = frozenset({"NET_BIND_SERVICE"})


def _names(values) -> set:
    return {str(v).upper().removeprefix("CAP_") for v in values or []}


def check(resource, config):
    workload = Workload(resource)
    yield from workload.findings
    for label, container in workload.containers:
        capabilities = workload.container_security(container, "capabilities")
        if is_unknown(capabilities):
            yield cannot_check(f"{label} securityContext.capabilities")
            continue
        drop = (capabilities or {}).get("drop")
        add = (capabilities or {}).get("add")
        if is_unknown(drop) or is_unknown(add) or any(is_unknown(v) for v in (drop or []) + (add or [])):
            yield cannot_check(f"{label} securityContext.capabilities")
            continue
        if "ALL" not in _names(drop):
            yield f"{label} does not drop ALL capabilities."
        extra = sorted(_names(add) - ALLOWED_ADDS)
        if extra:
            yield f"{label} adds capabilities {', '.join(extra)}."


RULE = ResourceRule(
    name="kubernetes-workload-container-require-drop-capabilities",
    description="Containers must drop all Linux capabilities and add back only NET_BIND_SERVICE.",
    severity="medium",
    enforcement="advisory",
    remediation="Set securityContext.capabilities={drop: ['ALL']} (add: ['NET_BIND_SERVICE'] only to bind ports "
                "below 1024).",
    frameworks=CIS_KUBERNETES("5.2.9", "5.2.10") + SOC2("CC6.8") + ISO27001("A.8.2") + PCI_DSS("2.2.1"),
    tags=("pod-security",),
    resource_types=WORKLOAD_TYPES,
    check=check,
)
