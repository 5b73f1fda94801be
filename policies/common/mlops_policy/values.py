"""Plain-data view of resource properties, with explicit unknowns.

The pulumi_policy SDK hands rules a proxy that raises on ANY access to an unknown
value. That is too blunt: "is a KMS key set?" is answered by an unknown key ARN (a key
created in the same program), while "is the bucket policy TLS-only?" is not. Rules get
plain dicts/lists in which unknowns stay as the engine's sentinel strings, and decide
per property with the helpers below.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import proxy as _proxy

UNKNOWN_SENTINELS = frozenset({
    _proxy.UNKNOWN_BOOLEAN_VALUE,
    _proxy.UNKNOWN_NUMBER_VALUE,
    _proxy.UNKNOWN_STRING_VALUE,
    _proxy.UNKNOWN_ARRAY_VALUE,
    _proxy.UNKNOWN_ASSET_VALUE,
    _proxy.UNKNOWN_ARCHIVE_VALUE,
    _proxy.UNKNOWN_OBJECT_VALUE,
})
UNKNOWN = _proxy.UNKNOWN_STRING_VALUE


def is_unknown(value: Any) -> bool:
    """True for a value that cannot be known until the update runs."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


_SCALARS = (str, int, float, bool, type(None))
_DICTS = (dict, _proxy._DictProxy)
_LISTS = (list, _proxy._ListProxy)


def plain(value: Any) -> Any:
    """Unwrap the SDK's unknown/secret-checking proxies into plain dicts and lists."""
    kind = type(value)
    # Fast paths for what props are made of (the exact types; anything else takes the general path
    # below): every check of every resource goes through here (issue 18).
    if kind in _SCALARS:
        return value
    if kind in _DICTS:
        return {str(k): plain(v) for k, v in (value if kind is dict else value["__target"]).items()}
    if kind in _LISTS:
        return [plain(v) for v in (value if kind is list else value["__target"])]
    if isinstance(value, Mapping):
        target = _raw_target(value)
        return {str(k): plain(v) for k, v in target.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        target = _raw_target(value)
        return [plain(v) for v in target]
    return value


def _raw_target(container: Any) -> Any:
    # The SDK proxies expose their wrapped container under the "__target" key.
    if type(container).__module__.startswith("pulumi_policy"):
        try:
            return container["__target"]
        except (KeyError, IndexError, TypeError):
            pass
    return container


def get(value: Any, path: str, default: Any = None) -> Any:
    """Follow a dotted path ("a.b.0.c") through dicts/lists; stop early at an unknown."""
    current = value
    for part in path.split("."):
        if is_unknown(current):
            return current
        if isinstance(current, Mapping):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, list) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return default
            current = current[index]
        else:
            return default
    return default if current is None else current


def as_list(value: Any) -> list:
    """None -> [], scalar -> [scalar], list -> list (unknown stays a one-element list)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def truthy(value: Any) -> bool | None:
    """True/False for a known boolean-ish value, None when unknown during preview."""
    if is_unknown(value):
        return None
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def is_set(value: Any) -> bool:
    """A non-empty value, or an unknown one (which will hold a value after apply)."""
    if value is None:
        return False
    if isinstance(value, (str, list, dict)) and not is_unknown(value):
        return len(value) > 0
    return True
