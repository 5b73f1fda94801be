"""GCP facts shared by the rules of this pack (IAM resource shapes, durations, key ids, GKE node configs)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from mlops_policy import Resource, cannot_check, get, is_unknown, truthy

# --- IAM ------------------------------------------------------------------------------------------

# Every pulumi-gcp IAM grant resource: gcp:projects/iAMMember:IAMMember,
# gcp:storage/bucketIAMBinding:BucketIAMBinding, gcp:secretmanager/secretIamPolicy:SecretIamPolicy, ...
_IAM_KIND = r"/[A-Za-z0-9]+:[A-Za-z0-9]*I[Aa][Mm](?P<shape>Member|Binding|Policy)"
_IAM_TOKEN = re.compile(r"^gcp:(?P<module>[A-Za-z0-9]+)" + _IAM_KIND + "$")
LEVELS = {"projects": "project", "folder": "folder", "organizations": "organization"}
# The same matching as regexes for the offline runner's type filter (mlops_policy.type_patterns);
# without them it sent every resource to the pack, which decodes each once per rule (issue 18).
IAM_TYPE_PATTERN = r"gcp:[A-Za-z0-9]+" + _IAM_KIND.replace("?P<shape>", "?:")
LEVEL_IAM_TYPE_PATTERN = "gcp:(?:" + "|".join(LEVELS) + ")" + _IAM_KIND.replace("?P<shape>", "?:")


def iam_shape(resource_type: str) -> Optional[tuple]:
    """(module, 'Member'|'Binding'|'Policy') for an IAM grant resource type, else None."""
    match = _IAM_TOKEN.match(resource_type)
    return (match["module"], match["shape"]) if match else None


def is_iam_type(resource_type: str) -> bool:
    return iam_shape(resource_type) is not None


class IamTypes(tuple):
    """Type filter for ``ResourceRule``: every IAM grant resource shape, present and future."""

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        return isinstance(token, str) and is_iam_type(token)

    def type_patterns(self) -> list:
        return [IAM_TYPE_PATTERN]


IAM_GRANT_TYPES = IamTypes(("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding",
                            "gcp:projects/iAMPolicy:IAMPolicy"))


class LevelIamTypes(tuple):
    """Project-, folder- and organization-level IAM grants (not grants on one resource)."""

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        shape = iam_shape(token) if isinstance(token, str) else None
        return shape is not None and shape[0] in LEVELS

    def type_patterns(self) -> list:
        return [LEVEL_IAM_TYPE_PATTERN]


LEVEL_IAM_GRANT_TYPES = LevelIamTypes(tuple(f"gcp:{m}/iAM{s}:IAM{s}" for m in LEVELS for s in ("Member", "Binding", "Policy")))


@dataclass(frozen=True)
class Grant:
    role: Any          # str or an unknown sentinel
    members: Any       # list[str] or an unknown sentinel
    where: str         # the property the grant came from, for messages


class PolicyDataError(ValueError):
    pass


def grants(resource: Resource) -> Optional[list]:
    """The role grants a Member/Binding/Policy resource makes; None when policyData is unknown."""
    shape = iam_shape(resource.type)
    props = resource.props
    if shape is None:
        return []
    if shape[1] == "Member":
        member = props.get("member")
        return [Grant(props.get("role"), member if is_unknown(member) else [member], "member")]
    if shape[1] == "Binding":
        members = props.get("members")
        return [Grant(props.get("role"), members if is_unknown(members) else list(members or []), "members")]
    data = props.get("policyData")
    if is_unknown(data):
        return None
    return _policy_grants(data)


def _policy_grants(data: Any) -> list:
    if isinstance(data, str):
        try:
            data = json.loads(data) if data.strip() else {}
        except json.JSONDecodeError as exc:
            raise PolicyDataError(f"policyData is not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise PolicyDataError("policyData is not a JSON object")
    bindings = data.get("bindings") or []
    if not isinstance(bindings, list):
        raise PolicyDataError("policyData.bindings is not a list")
    result = []
    for index, binding in enumerate(bindings):
        if not isinstance(binding, dict):
            raise PolicyDataError(f"policyData.bindings[{index}] is not an object")
        result.append(Grant(binding.get("role"), list(binding.get("members") or []), f"policyData.bindings[{index}]"))
    return result


def level_of(resource: Resource) -> str:
    shape = iam_shape(resource.type)
    return LEVELS.get(shape[0], "resource") if shape else "resource"


def target_of(resource: Resource) -> str:
    props = resource.props
    for key in ("project", "folder", "orgId"):
        value = props.get(key)
        if isinstance(value, str) and not is_unknown(value):
            return value
    return resource.name


# --- durations and keys ---------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d{1,9})?)s\s*$")
DAY_SECONDS = 86400


def duration_seconds(value: str) -> Optional[float]:
    """Seconds of a protobuf duration string like "7776000s"; None when malformed."""
    match = _DURATION.match(value)
    return float(match.group(1)) if match else None


def key_name(value: str) -> str:
    """A Cloud KMS key resource name without a trailing /cryptoKeyVersions/N."""
    return re.sub(r"/cryptoKeyVersions/[^/]+$", "", value.strip().rstrip("/"))


def crypto_key_name(key: Resource) -> Optional[str]:
    """projects/.../keyRings/<ring>/cryptoKeys/<name> from a CryptoKey's inputs, when known."""
    ring, name = key.props.get("keyRing"), key.props.get("name")
    if isinstance(ring, str) and isinstance(name, str) and not is_unknown(ring) and not is_unknown(name):
        return f"{ring.rstrip('/')}/cryptoKeys/{name}"
    return None


def names_key(key: Resource, value: str) -> bool:
    """True when a key reference (with or without /cryptoKeyVersions/N) names the CryptoKey ``key``."""
    return crypto_key_name(key) == key_name(value)


def key_references(resource: Resource, dotted: str) -> list:
    """The key names at ``dotted`` in a resource's inputs; ``a[].b`` walks a list of blocks."""
    if "[]." not in dotted:
        value = path(resource.props, dotted)
        return [value] if value else []
    head, tail = dotted.split("[].", 1)
    items = resource.props.get(head)
    if is_unknown(items):
        return [items]
    return [v for v in (path(item, tail) for item in items or []) if v]


# --- GKE ------------------------------------------------------------------------------------------

def is_autopilot(cluster_props: dict) -> Optional[bool]:
    """True/False, None when unknown during preview. Autopilot hardens nodes itself."""
    value = cluster_props.get("enableAutopilot")
    return truthy(value) if value is not None else False


def inline_pools(cluster_props: dict) -> Iterator[tuple]:
    """(label, pool) for each entry of the cluster's inline ``nodePools`` list."""
    pools = cluster_props.get("nodePools")
    if is_unknown(pools):
        yield "nodePools", pools
        return
    for index, pool in enumerate(pools or []):
        name = pool.get("name") if isinstance(pool, dict) else None
        yield f"nodePools[{index}]" + (f" ({name})" if isinstance(name, str) else ""), pool


def node_configs(cluster_props: dict) -> Iterator[tuple]:
    """(label, nodeConfig) for each node pool a Standard cluster definition creates and keeps."""
    remove_default = cluster_props.get("removeDefaultNodePool")
    if not (remove_default is not None and truthy(remove_default)):
        yield "nodeConfig (default node pool)", cluster_props.get("nodeConfig") or {}
    for label, pool in inline_pools(cluster_props):
        yield label, pool if not isinstance(pool, dict) else (pool.get("nodeConfig") or {})


NODE_POOL = "gcp:container/nodePool:NodePool"


def node_settings(resource: Resource) -> Iterator:
    """(label, nodeConfig) wherever a GKE resource writes node settings, or a Finding.

    A ``NodePool`` has one; a Standard cluster has its default pool's and its inline pools' (``node_configs``);
    an Autopilot cluster none (GKE manages its nodes); an unknown ``enableAutopilot`` or node config is a
    cannot-check Finding.
    """
    if resource.type == NODE_POOL:
        yield "node pool", resource.props.get("nodeConfig") or {}
        return
    autopilot = is_autopilot(resource.props)
    if autopilot is None:
        yield cannot_check("enableAutopilot")
        return
    if autopilot:
        return
    for label, node_config in node_configs(resource.props):
        yield cannot_check(label) if is_unknown(node_config) else (label, node_config)


def block(value: Any) -> Any:
    """A nested block as a dict whether written as an object or a one-element list (older SDKs)."""
    if isinstance(value, list):
        return value[0] if len(value) == 1 else ({} if not value else value)
    return value


def path(value: Any, dotted: str) -> Any:
    """``get`` that also walks one-element-list blocks."""
    current = value
    for part in dotted.split("."):
        current = get(block(current), part)
        if current is None or is_unknown(current):
            return current
    return current


def readable_grants(resource: Resource, what: str) -> Iterator:
    """The resource's grants, or one finding when they cannot be read: an unparsable policyData fails
    closed ("the rule cannot verify <what>"), an unknown one cannot be checked during preview."""
    try:
        found = grants(resource)
    except PolicyDataError as error:
        yield f"{error}: the rule cannot verify {what}."
        return
    if found is None:
        yield cannot_check("policyData")
        return
    yield from found


def forbidden_grants(resource: Resource, roles: dict, explain) -> Iterator:
    """Findings for every grant of one of ``roles`` (lower-case role -> display name) by an IAM resource.

    ``explain(role, grant)`` words the violation. Unknown roles/members/policyData become
    ``cannot_check``; a policyData the rule cannot parse fails closed.
    """
    for grant in readable_grants(resource, "which roles it grants"):
        if not isinstance(grant, Grant):
            yield grant
            continue
        if is_unknown(grant.role):
            yield cannot_check(f"role ({grant.where})")
            continue
        role = roles.get(str(grant.role).strip().lower())
        if role is None:
            continue
        if is_unknown(grant.members):
            yield cannot_check(f"members of {role} ({grant.where})")
        elif grant.members:
            yield explain(role, grant)


def grants_to(resource: Resource, matches, what: str) -> Iterator:
    """(grant, members) for each grant of the resource naming members for which ``matches(member)`` holds.

    Unknown members become ``cannot_check``; an unknown or unparsable policyData gives the finding of
    ``readable_grants`` (``what`` words what the rule cannot verify). Findings are yielded as they come.
    """
    for grant in readable_grants(resource, what):
        if not isinstance(grant, Grant):
            yield grant
        elif is_unknown(grant.members):
            yield cannot_check(f"members ({grant.where})")
        else:
            hits = [m for m in grant.members if not is_unknown(m) and matches(str(m).strip())]
            if hits:
                yield grant, hits


def members_text(grant: Grant) -> str:
    return ", ".join(str(m) for m in grant.members)
