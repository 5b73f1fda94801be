"""Collect the rules of a pack: every module under the pack's rules package defines RULE."""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from .rule import ResourceRule, StackRule


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


def policies(package: ModuleType) -> list:
    """The pulumi_policy Policy objects of every rule under ``package``."""
    return [rule.policy for rule in load_rules(package)]
