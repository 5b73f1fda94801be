"""The text summary printed after a preview: resources per component and per type, the total, the outputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from mlops_tools.engine.plan import component_of


def summarize(plan: dict[str, Any]) -> str:
    """What a reviewer wants first: resources per component and per type, the total, the outputs."""
    resources = plan["resources"]
    by_urn = {r["urn"]: r for r in resources}
    counted = [r for r in resources if r["type"] != "pulumi:pulumi:Stack"]
    per_component: Counter[str] = Counter()
    for resource in counted:
        component = component_of(resource, by_urn)
        label = f"{component['type']} ({component['name']})" if component else "(stack level)"
        if component is not resource:
            per_component[label] += 1
    per_type = Counter(r["type"] for r in counted)
    lines = [f"Offline preview of {plan['project']}/{plan['stack']} ({plan['cloud']}): {len(counted)} resources"]
    lines.append("\nResources per component (children counted):")
    width = max((len(k) for k in per_component), default=0)
    lines += [f"  {label:<{width}}  {count:>4}" for label, count in sorted(per_component.items())]
    lines.append("\nResources per type:")
    width = max((len(k) for k in per_type), default=0)
    lines += [f"  {label:<{width}}  {count:>4}" for label, count in sorted(per_type.items())]
    lines.append(f"  {'total':<{width}}  {len(counted):>4}")
    lines.append("\nOutputs:")
    for name, value in sorted(plan["outputs"].items()):
        lines.append(f"  {name}: {json.dumps(value, sort_keys=True)}")
    return "\n".join(lines)


def relative_to_root(path: Path, root: Path) -> Path:
    return path.relative_to(root) if path.is_relative_to(root) else path


def verdict_line(plan: dict[str, Any], stack: str, policies: bool, mandatory: int, expired: int,
                 plan_path: Path, root: Path) -> str:
    """The first thing a preview prints: pass or fail, and the counts behind it."""
    resources = sum(1 for r in plan["resources"] if r["type"] != "pulumi:pulumi:Stack")
    policy = plan.get("policy", {})
    if not policies:
        status, findings = "PREVIEWED", "policy packs not run (--no-policy)"
    else:
        advisory = sum(1 for v in policy.get("violations", []) if v.get("enforcement") != "mandatory")
        status = "FAIL" if mandatory or expired else "PASS"
        findings = (f"{mandatory} unwaived mandatory, {advisory} advisory, {len(policy.get('waived', []))} waived"
                    + (f", {expired} expired waiver(s)" if expired else "")
                    + f" across {len(policy.get('packs', []))} packs")
    return f"{stack}: {status} ({plan['cloud']}, {resources} resources; {findings}); plan {relative_to_root(plan_path, root)}"
