"""Build a supported-version rule (the cloud still creates the pinned engine/cluster version today).

One factory for every pack: the table and the judgement live in ``support.py``; a rule file names the
resource types, the property and how its value maps to a table row.
"""
from __future__ import annotations

from typing import Callable, Optional

from .rule import SOC2, ISO27001, ResourceRule, cannot_check
from .support import AS_OF_SCHEMA, version_findings
from .values import get, is_unknown


def supported_version_rule(name: str, what: str, product: str, resource_types: tuple, field: str,
                           normalize: Callable[[str], str] = lambda v: v,
                           applies: Optional[Callable[[dict], bool]] = None) -> ResourceRule:
    def check(resource, config):
        if applies is not None and not applies(resource.props):
            return
        value = get(resource.props, field)
        if is_unknown(value):
            yield cannot_check(field)
            return
        for finding in version_findings(product, field, value, config, normalize):
            yield cannot_check(finding[1]) if isinstance(finding, tuple) else finding + "."

    return ResourceRule(
        name=name,
        description=f"{what} pin a version the cloud still creates today (support-window table with end dates).",
        severity="high",
        enforcement="mandatory",
        remediation="Use a version the message lists as allowed, or add the version to "
                    "policies/common/mlops_policy/support_windows.json with its creation end date and source.",
        frameworks=SOC2("CC7.1") + ISO27001("A.8.8"),
        tags=("deployability", "support-window"),
        config={"asOf": AS_OF_SCHEMA},
        resource_types=resource_types,
        check=check,
    )
