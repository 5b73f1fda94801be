"""The plan file: what a preview registered, its outputs and its policy results, byte-for-byte stable.

Same code and config give the same bytes (resources sorted by URN, keys sorted, no timestamps), so a
pull request's plan diff shows only real changes. Secrets are written as "[secret]".
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

from mlops_tools.engine.preview import PreviewResult


def build_plan(result: PreviewResult, cloud: str, packs: Iterable[dict[str, Any]] = (),
               violations: Iterable[dict[str, Any]] = (), waived: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    key = lambda v: (v.get("pack", ""), v.get("policy", ""), v.get("urn", ""), v.get("message", ""))  # noqa: E731
    return {
        "project": result.project,
        "stack": result.stack,
        "cloud": cloud,
        "resources": result.masked_resources(),
        "outputs": result.masked_outputs(),
        "policy": {
            "packs": sorted(packs, key=lambda p: p["name"]),
            "violations": sorted(violations, key=key),
            "waived": sorted(waived, key=key),
        },
    }


def dumps(plan: dict[str, Any]) -> str:
    return json.dumps(plan, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_plan(plan: dict[str, Any], path: Path) -> None:
    """Write atomically: a failed run never leaves half a plan behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dumps(plan))
    tmp.replace(path)


def read_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no plan file at {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a plan file: {exc}") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise ValueError(f"{path} is not a plan file: no resources list")
    return plan


def component_of(resource: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The top-level platform component a resource belongs to (the outermost `mlops:` ancestor)."""
    found = None
    current: Optional[dict[str, Any]] = resource
    while current is not None:
        if current["type"].startswith("mlops:"):
            found = current
        current = by_urn.get(current.get("parent") or "")
    return found


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
