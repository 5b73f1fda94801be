"""Azure facts shared by the rules of this pack (type tokens, ARM ids, tags, correlation).

Kept in the pack rather than in ``policies/common`` because every helper here is about
azure-native shapes only.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

from mlops_policy import Correlation, Resource, cannot_check, correlate, is_unknown

_VERSIONED = re.compile(
    r"^azure-native(?:_[a-z0-9]+_v[0-9a-z]+)?:(?P<module>[A-Za-z0-9]+)(?:/v[0-9a-z]+)?:(?P<kind>[A-Za-z0-9]+)$")


class AzureTypes(tuple):
    """The default type tokens, matching the API-versioned tokens of the same resources too.

    azure-native v3 ships one API version per resource; ``pulumi package add azure-native <module>
    <version>`` generates a parameterized local SDK whose tokens carry the version
    (``azure-native_storage_v20240101:storage/v20240101:StorageAccount``), and v2 programs used
    ``azure-native:storage/v20230101:StorageAccount``. A rule about the storage account must see
    those as well, so membership compares module and kind, ignoring the version parts.
    """

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        return isinstance(token, str) and _unversioned(token) in tuple(iter(self))

    def type_patterns(self) -> list:
        """The same matching as ``__contains__``, as regexes the offline runner filters with."""
        patterns = []
        for token in self:
            match = _VERSIONED.match(token)
            if not match:
                patterns.append(re.escape(token))
                continue
            patterns.append(r"azure-native(?:_[a-z0-9]+_v[0-9a-z]+)?:" + re.escape(match["module"])
                            + r"(?:/v[0-9a-z]+)?:" + re.escape(match["kind"]))
        return patterns


def _unversioned(token: str) -> str:
    match = _VERSIONED.match(token)
    return f"azure-native:{match['module']}:{match['kind']}" if match else token


def azure_types(*tokens: str) -> AzureTypes:
    return AzureTypes(tokens)


def of_types(resources: Iterable[Resource], types: AzureTypes) -> list:
    return [r for r in resources if r.type in types]


def lower(value: Any) -> Any:
    """Case-insensitive comparison for Azure enum strings ("Disabled" == "disabled")."""
    return value.strip().lower() if isinstance(value, str) and not is_unknown(value) else value


def tag(tags: Any, *keys: str) -> Any:
    """A tag value by case-insensitive key (Azure tag names are case-insensitive)."""
    if is_unknown(tags):
        return tags
    if not isinstance(tags, Mapping):
        return None
    wanted = {k.lower() for k in keys}
    for key, value in tags.items():
        if str(key).lower() in wanted:
            return value
    return None


# --- ARM resource ids -------------------------------------------------------------------------

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def trailing_guid(resource_id: str) -> Optional[str]:
    """The GUID a role definition id ends with (full ARM id at any scope, or a bare GUID)."""
    last = resource_id.rstrip("/").rsplit("/", 1)[-1]
    return last.lower() if _GUID.fullmatch(last) else None


def scope_level(scope: str) -> str:
    """'root', 'managementGroup', 'subscription', 'resourceGroup' or 'resource' for an ARM scope."""
    parts = [p for p in scope.strip().split("/") if p]
    lowered = [p.lower() for p in parts]
    if not parts:
        return "root"
    if lowered[:3] == ["providers", "microsoft.management", "managementgroups"]:
        return "managementGroup" if len(parts) <= 4 else "resource"
    if lowered[0] == "subscriptions":
        if len(parts) <= 2:
            return "subscription"
        if lowered[2] == "resourcegroups" and len(parts) <= 4:
            return "resourceGroup"
    return "resource"


# --- correlating a child resource with its parent server / account ---------------------------

def linked(child: Resource, prop: str, candidates: list, name_of) -> Correlation:
    """The candidates ``child.props[prop]`` points at, and whether that could be decided (see ``correlate``).

    ``name_of`` gives a candidate's name as the child would hold it, or None when not known at
    preview; names compare case-insensitively and only within the child's resource group.
    """
    group = child.props.get("resourceGroupName")
    return correlate(child, prop, candidates, lambda c, value: _same(name_of(c), value) and _same_group(c, group))


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, str) and isinstance(b, str) and not is_unknown(a) and a.lower() == b.lower()


def _same_group(candidate: Resource, group: Any) -> bool:
    theirs = candidate.props.get("resourceGroupName")
    if not isinstance(group, str) or not isinstance(theirs, str) or is_unknown(group) or is_unknown(theirs):
        return True
    return group.lower() == theirs.lower()


def except_project_workspaces(check_settings):
    """Wrap an Azure ML workspace check: ``Project`` workspaces inherit networking and encryption from their hub."""
    def check(resource: Resource, config: Mapping[str, Any]):
        kind = resource.props.get("kind")
        if is_unknown(kind):
            yield cannot_check("kind")
        elif lower(kind) != "project":
            yield from check_settings(resource, config)
    return check
