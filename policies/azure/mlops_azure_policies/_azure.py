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


# --- AKS node pools: inline in the cluster (agentPoolProfiles) or separate AgentPool resources --------

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
AKS_TYPES = AzureTypes((MANAGED_CLUSTER, AGENT_POOL))


def node_pools(resource: Resource) -> list:
    """(label, pool props) for each node pool the resource declares; an unknown list is one unknown entry."""
    if resource.type in AzureTypes((AGENT_POOL,)):
        return [("", resource.props)]
    profiles = resource.props.get("agentPoolProfiles")
    if is_unknown(profiles):
        return [("agentPoolProfiles", profiles)]
    return [(f"agentPoolProfiles[{i}]" + ("" if is_unknown(p) else f" ({(p or {}).get('name', '')})"),
             p if is_unknown(p) else p or {}) for i, p in enumerate(profiles or [])]


def pool_check(path: str, judge):
    """A check over every node pool: ``judge(value)`` returns why the pool's ``path`` value fails, or None."""
    def check(resource: Resource, config: Mapping[str, Any]):
        for label, pool in node_pools(resource):
            if is_unknown(pool):
                yield cannot_check(label)
                continue
            value = pool.get(path)
            where = f"{label}.{path}" if label else path
            if is_unknown(value):
                yield cannot_check(where)
                continue
            problem = judge(value)
            if problem:
                yield f"{where} {problem}"
    return check


# --- diagnostic settings: which resource a setting's resourceUri names ----------------------------

DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
DESTINATIONS = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")


def diagnostic_settings(stack_resources: Iterable[Resource], targets: list, name_of, suffix: str = "") -> dict:
    """target URN -> the DiagnosticSettings whose resourceUri is ``<target's ARM id><suffix>``.

    A literal URI is matched on its last segments (``.../<name><suffix>``, case-insensitive); an
    unknown one (the target's id is an output during a real preview) by the engine's dependency.
    """
    def names(candidate: Resource, value: str) -> bool:
        name = name_of(candidate)
        return isinstance(name, str) and not is_unknown(name) and \
            value.rstrip("/").lower().endswith(f"/{name}{suffix}".lower())

    found: dict = {}
    for setting in of_types(stack_resources, AzureTypes((DIAGNOSTIC_SETTING,))):
        uri = setting.props.get("resourceUri")
        if isinstance(uri, str) and not is_unknown(uri) and not uri.rstrip("/").lower().endswith(suffix.lower()):
            continue  # a setting on another (sub)resource of the same target
        for target in correlate(setting, "resourceUri", targets, names).matches:
            found.setdefault(target.urn, []).append(setting)
    return found


def enabled_log_categories(settings: list) -> tuple:
    """(categories and category groups enabled across ``settings``, whether any value was unknown)."""
    enabled, unknown = set(), False
    for setting in settings:
        if not any(setting.props.get(k) not in (None, "") for k in DESTINATIONS):
            continue  # a setting without a destination delivers nothing
        logs = setting.props.get("logs")
        if is_unknown(logs):
            unknown = True
            continue
        for entry in logs or []:
            if is_unknown(entry):
                unknown = True
            elif (entry or {}).get("enabled") is True:
                enabled.update(v for v in (entry.get("category"), entry.get("categoryGroup")) if isinstance(v, str))
    return enabled, unknown
