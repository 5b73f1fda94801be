"""Which packs analyse a stack, and which of its resources each pack receives.

Packs (DESIGN.md): every pack whose provider has resources in the plan, plus kubernetes (the
platform's workloads run on the cluster whatever the cloud); never fewer because of the config's
cloud alone, since a program may mix clouds or not set `mlops:cloud`. A pack names its provider in
GetAnalyzerInfo (`PolicyPack(provider=...)`); a pack that names none always runs. `--all-packs`
keeps every pack.

Resources: a pack's rules declare the types they read (mlops_policy `type_patterns`); the runner
sends per-resource analysis only the resources some resource rule reads and stack analysis only
those some stack rule reads. The SDK decodes every resource once per policy, so this is where a
pack's time goes. Without a declaration covering every policy the pack serves, it gets everything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

ALWAYS_RUN_PROVIDERS = frozenset({"kubernetes"})
# The provider package a stack's `mlops:cloud` deploys with. Only a hint for which packs boot while
# the program runs; the others boot afterwards if the plan has resources of their provider.
CLOUD_PACKAGES = {"aws": "aws", "azure": "azure-native", "gcp": "gcp"}
PROVIDER_TYPE_PREFIX = "pulumi:providers:"


def packages_in(resources: Iterable[Mapping[str, Any]]) -> set:
    """The provider packages with resources in the plan (`aws` for `aws:s3/...` and `pulumi:providers:aws`)."""
    found = set()
    for resource in resources:
        token = resource["type"]
        if token.startswith(PROVIDER_TYPE_PREFIX):
            found.add(token[len(PROVIDER_TYPE_PREFIX):])
        elif not token.startswith("pulumi:"):
            found.add(token.split(":", 1)[0])
    return found


def pack_runs(provider: str, packages: set) -> bool:
    return not provider or provider in ALWAYS_RUN_PROVIDERS or provider in packages


def boot_first(cloud: Optional[str]) -> Callable[[Optional[str]], bool]:
    """`PolicyPacks(boot_now=...)` for a stack of `cloud`: its cloud's pack, kubernetes, and any pack
    whose provider is unknown boot at once; with no known cloud, every pack does."""
    expected = {CLOUD_PACKAGES[cloud]} if cloud in CLOUD_PACKAGES else None

    def boot_now(provider: Optional[str]) -> bool:
        return expected is None or provider is None or pack_runs(provider, expected)
    return boot_now


def stack_cloud_hint(root: Path, stack: str, overrides: Iterable[str] = ()) -> Optional[str]:
    """The stack's `mlops:cloud`, read straight from Pulumi.<stack>.yaml or a KEY=VALUE override.

    Cheap on purpose (YAML only, no pulumi import): the packs start before the config is validated.
    Only `boot_first` uses it; a wrong or missing value costs time, and the config model reports
    bad values afterwards.
    """
    import yaml

    for override in reversed(list(overrides)):
        key, _, value = override.partition("=")
        if key.strip() == "mlops:cloud" and value:
            return value.strip()
    try:
        doc = yaml.safe_load((Path(root) / f"Pulumi.{stack}.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return None
    value = (doc.get("config") or {}).get("mlops:cloud") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


class _Matcher:
    """Full-match of a type token against declared patterns; None patterns match every token."""

    def __init__(self, patterns: Optional[list]):
        self._regex = None if patterns is None else re.compile("|".join(f"(?:{p})" for p in patterns) or r"(?!)")
        self._seen: dict = {}

    def __call__(self, token: str) -> bool:
        if self._regex is None:
            return True
        if token not in self._seen:
            self._seen[token] = self._regex.fullmatch(token) is not None
        return self._seen[token]


class TypeFilter:
    """What one pack receives: `resource(token)` for Analyze, `stack(token)` for AnalyzeStack."""

    def __init__(self, declared: Optional[Mapping[str, Any]], served_policies: Iterable[str]):
        covered = declared is not None and set(declared.get("policies") or ()) == set(served_policies)
        self.resource = _Matcher(declared.get("resource") if covered else None)
        self.stack = _Matcher(declared.get("stack") if covered else None)
