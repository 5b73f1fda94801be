"""ConfigMaps do not hold passwords, tokens, keys or URLs with credentials.

ConfigMaps are readable by every subject with ``view`` in the namespace and are not encrypted
at rest by the cluster's secret encryption; credentials belong in Secrets.
"""
from __future__ import annotations

from mlops_policy import CIS_KUBERNETES, ISO27001, PCI_DSS, SOC2, ResourceRule, cannot_check, is_unknown

from .._kinds import CONFIG_MAP_TYPES
from .._secrets import secret_problem


def check(resource, config):
    data = resource.props.get("data")
    if is_unknown(data):
        yield cannot_check("data")
        return
    for key, value in sorted((data or {}).items()):
        if is_unknown(value):
            yield cannot_check(f"data[{key}]")
            continue
        problem = secret_problem(key, value)
        if problem:
            yield f"data: {problem}; move it to a Secret."


RULE = ResourceRule(
    name="kubernetes-config-configmap-disallow-plaintext-secrets",
    description="ConfigMaps must not hold passwords, tokens, keys or URLs with credentials.",
    severity="high",
    enforcement="mandatory",
    remediation="Move the value into a Secret (or an ExternalSecret) and mount or reference it from there.",
    frameworks=CIS_KUBERNETES("5.4.1") + SOC2("CC6.1") + ISO27001("A.5.17", "A.8.24") + PCI_DSS("3.5.1", "8.3.2"),
    tags=("secrets",),
    resource_types=CONFIG_MAP_TYPES,
    check=check,
)
