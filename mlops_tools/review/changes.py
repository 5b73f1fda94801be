"""What changed between two plans, resource by resource: the model behind the Markdown plan diff.

Two things make a plan diff readable for a reviewer, and both live here:
- list elements are matched by identity (a widget's title, a statement's Sid, a container's name),
  not position, so inserting one dashboard widget reads as one added widget instead of a hundred
  index-shifted "changes";
- a replacement is shown with what hangs off it (the resources that depend on it or are its
  children), since replacing a subnet replaces the cluster and the database with it.

Replacement flags are an offline estimate (no provider schema is available here): a changed provider
region, and a change to a property that names or places the resource, forces a new resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

# Properties whose change replaces the resource for most providers (names, placement, identity,
# encryption at creation). Per-type additions below.
REPLACING_PROPERTIES = {
    "name", "namePrefix", "bucket", "bucketPrefix", "identifier", "identifierPrefix", "clusterName",
    "nodeGroupName", "location", "region", "availabilityZone", "vpcId", "cidrBlock", "resourceGroupName",
    "project", "metadata.name", "metadata.namespace", "apiVersion", "kind",
}
REPLACING_BY_TYPE = {
    "aws:rds/instance:Instance": {"engine", "kmsKeyId", "storageEncrypted", "dbSubnetGroupName", "replicateSourceDb", "dbName"},
    "aws:dynamodb/table:Table": {"hashKey", "rangeKey", "serverSideEncryption.kmsKeyArn"},
    "aws:eks/cluster:Cluster": {"encryptionConfig", "vpcConfig.subnetIds", "kubernetesNetworkConfig"},
    "aws:kms/key:Key": {"multiRegion", "keyUsage", "customerMasterKeySpec"},
    "aws:ecr/repository:Repository": {"encryptionConfigurations"},
    "aws:sqs/queue:Queue": {"fifoQueue"},
    "aws:ec2/subnet:Subnet": {"cidrBlock", "availabilityZone"},
}

# Keys that identify an element of a list of objects, tried in order; the first key that every
# element has, with distinct values, names the elements (`widgets[title=Latency]`).
IDENTITY_KEYS = ("name", "Sid", "sid", "id", "uid", "title", "alert", "record", "key", "refId", "containerName",
                 "metadata.name", "properties.title", "displayName")

STACK_TYPE = "pulumi:pulumi:Stack"
RENAME_SIMILARITY = 0.8  # share of equal input leaves for an unaliased rename candidate


def _embedded_json(value: str) -> Any:
    """A JSON document held in a string property (IAM policies, dashboards), or None."""
    if value[:1] not in "{[":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _lookup(item: dict[str, Any], dotted: str) -> Any:
    value: Any = item
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def element_labels(items: list[Any]) -> list[str]:
    """`[key=value]` per element when the list's objects share an identity key, else `[index]`."""
    if len(items) > 1 and all(isinstance(item, dict) for item in items):
        for key in IDENTITY_KEYS:
            values = [_lookup(item, key) for item in items]
            if all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values) and len(set(values)) == len(values):
                return [f"[{key}={value}]" for value in values]
    return [f"[{index}]" for index in range(len(items))]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs as {"a.b[name=x].c": leaf} so changes can be reported by property path.

    JSON documents inside string properties are opened too, so a policy change reads as the
    statement that changed rather than two long strings.
    """
    if isinstance(value, str):
        document = _embedded_json(value)
        if isinstance(document, (dict, list)) and document:
            return flatten(document, prefix)
        return {prefix: value}
    if isinstance(value, dict):
        if not value:
            return {prefix: {}} if prefix else {}
        items: dict[str, Any] = {}
        for key in sorted(value):
            items.update(flatten(value[key], f"{prefix}.{key}" if prefix else key))
        return items
    if isinstance(value, list):
        if not value:
            return {prefix: []}
        items = {}
        for label, item in zip(element_labels(value), value):
            items.update(flatten(item, f"{prefix}{label}"))
        return items
    return {prefix: value}


def forces_replacement(resource_type: str, path: str) -> bool:
    keys = REPLACING_PROPERTIES | REPLACING_BY_TYPE.get(resource_type, set())
    return any(path == key or path.startswith(key + ".") or path.startswith(key + "[") for key in keys)


def provider_region(plan: dict[str, Any], reference: Optional[str]) -> Optional[str]:
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    provider = next((r for r in plan["resources"] if r["urn"] == urn), None)
    if provider is None:
        return None
    return provider["inputs"].get("region") or provider["inputs"].get("location")


def resource_changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(property path, old, new) for every input that differs, plus protect changes."""
    old_inputs, new_inputs = flatten(old["inputs"]), flatten(new["inputs"])
    for path in sorted(set(old_inputs) | set(new_inputs)):
        before, after = old_inputs.get(path, None), new_inputs.get(path, None)
        if before != after:
            yield path, before, after
    if old.get("protect") != new.get("protect"):
        yield "(protect)", old.get("protect"), new.get("protect")


def _similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    left, right = flatten(a["inputs"]), flatten(b["inputs"])
    keys = set(left) | set(right)
    return sum(1 for key in keys if left.get(key) == right.get(key)) / len(keys) if keys else 0.0


@dataclass
class Changed:
    resource: dict[str, Any]
    changes: list[tuple[str, Any, Any]]
    replacement_reasons: list[str]


@dataclass
class PlanChanges:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    renamed: list[tuple[dict[str, Any], dict[str, Any], float]] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    dependents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # replaced urn -> what hangs off it

    @property
    def replacements(self) -> int:
        return sum(1 for c in self.changed if c.replacement_reasons) + len(self.renamed)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renamed)


def dependents_of(plan: dict[str, Any], urn: str) -> list[dict[str, Any]]:
    """Every resource that depends on `urn` or is its child, transitively, in URN order."""
    resources = [r for r in plan.get("resources", []) if r["type"] != STACK_TYPE]
    found: dict[str, dict[str, Any]] = {}
    frontier = {urn}
    while frontier:
        next_frontier = set()
        for resource in resources:
            if resource["urn"] in found or resource["urn"] == urn:
                continue
            if resource.get("parent") in frontier or frontier & set(resource.get("dependencies") or []):
                found[resource["urn"]] = resource
                next_frontier.add(resource["urn"])
        frontier = next_frontier
    return [found[key] for key in sorted(found)]


def compare(old: dict[str, Any], new: dict[str, Any]) -> PlanChanges:
    """Resource-level changes from `old` to `new` (two plan documents)."""
    old_by_urn = {r["urn"]: r for r in old.get("resources", []) if r["type"] != STACK_TYPE}
    new_by_urn = {r["urn"]: r for r in new.get("resources", []) if r["type"] != STACK_TYPE}
    result = PlanChanges(added=[new_by_urn[u] for u in sorted(set(new_by_urn) - set(old_by_urn))],
                         removed=[old_by_urn[u] for u in sorted(set(old_by_urn) - set(new_by_urn))])
    for resource in list(result.added):
        # A rename keeps type and parent and most inputs; resources with no inputs give no evidence.
        candidates = [(r, _similarity(r, resource)) for r in result.removed
                      if resource["inputs"] and r["type"] == resource["type"] and r.get("parent") == resource.get("parent")]
        best = max(candidates, key=lambda pair: (pair[1], pair[0]["urn"]), default=None)
        if best is not None and best[1] >= RENAME_SIMILARITY:
            result.renamed.append((best[0], resource, best[1]))
            result.added.remove(resource)
            result.removed.remove(best[0])

    for urn in sorted(set(old_by_urn) & set(new_by_urn)):
        before, after = old_by_urn[urn], new_by_urn[urn]
        changes = list(resource_changes(before, after))
        reasons = [path for path, _, _ in changes if forces_replacement(after["type"], path)]
        old_region, new_region = provider_region(old, before.get("provider")), provider_region(new, after.get("provider"))
        if old_region != new_region:
            changes.append(("(provider region)", old_region, new_region))
            reasons.append("provider region")
        if changes:
            result.changed.append(Changed(after, changes, reasons))
            if reasons:
                result.dependents[urn] = dependents_of(new, urn)
    for before, after, _ in result.renamed:
        result.dependents[after["urn"]] = dependents_of(new, after["urn"])
    return result


def alias_hint(old: dict[str, Any]) -> str:
    """The resource option that keeps a renamed resource (Pulumi matches it to its old URN)."""
    return f'opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="{old["name"]}")])'
