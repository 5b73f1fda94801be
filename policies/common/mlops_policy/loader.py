"""Collect the rules of a pack: every module under the pack's rules package defines RULE."""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
from types import ModuleType
from typing import Optional

from .rule import ResourceRule, StackRule, type_patterns

# Set by the offline runner (mlops_tools.policy): where this pack declares the types it reads.
TYPES_FILE_ENV = "MLOPS_POLICY_TYPES_FILE"


def load_rules(package: ModuleType) -> list:
    """All RULE objects under ``package`` (recursively), sorted by rule name; names must be unique."""
    rules = []
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        module = importlib.import_module(info.name)
        rule = getattr(module, "RULE", None)
        if rule is None:
            continue
        if not isinstance(rule, (ResourceRule, StackRule)):
            raise TypeError(f"{info.name}.RULE is not a ResourceRule or StackRule")
        rules.append(rule)
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule names in {package.__name__}: {', '.join(duplicates)}")
    return sorted(rules, key=lambda r: r.name)


def _union(rules: list) -> Optional[list]:
    """Union of the rules' type patterns; None as soon as one rule reads every resource."""
    patterns: set = set()
    for rule in rules:
        declared = type_patterns(rule.resource_types)
        if declared is None:
            return None
        patterns.update(declared)
    return sorted(patterns)


def declared_types(rules: list) -> dict:
    """What the pack's rules read: type patterns for per-resource and for stack analysis (None = all).

    ``policies`` names the rules it covers: a runner filters only when these are all the pack's policies.
    """
    return {"policies": sorted(r.name for r in rules),
            "resource": _union([r for r in rules if isinstance(r, ResourceRule)]),
            "stack": _union([r for r in rules if isinstance(r, StackRule)])}


def policies(package: ModuleType) -> list:
    """The pulumi_policy Policy objects of every rule under ``package``.

    Under the offline runner (``MLOPS_POLICY_TYPES_FILE`` set) it also appends one JSON line with
    ``declared_types`` to that file, before the pack serves, so the runner can send the pack only
    the resources its rules read. The Pulumi CLI never sets it; the pack then behaves as always.
    """
    rules = load_rules(package)
    path = os.environ.get(TYPES_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(declared_types(rules), sort_keys=True) + "\n")
    return [rule.policy for rule in rules]
