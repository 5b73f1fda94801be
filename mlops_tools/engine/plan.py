"""The plan file: what a preview registered, its outputs and its policy results, byte-for-byte stable.

Same code and config give the same bytes (resources sorted by URN, keys sorted, no timestamps), so a
pull request's plan diff shows only real changes. Secrets are written as "[secret]".
"""

from __future__ import annotations

import json
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
