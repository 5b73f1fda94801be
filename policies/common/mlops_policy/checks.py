"""Check functions that many rules share: "this setting must be on", "this value must be one of".

Most single-setting rules differ only in the property they read and why it matters; writing the
unknown handling once keeps every rule's "cannot check during preview" behaviour the same.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

from .rule import cannot_check
from .values import get, is_unknown, truthy

Applies = Optional[Callable[[Mapping[str, Any]], bool]]


def require_true(path: str, why: str, absent: bool = False, applies: Applies = None):
    """A check: the setting at dotted ``path`` is true; ``absent`` is the cloud's default when unset.

    ``applies(props)`` False skips the resource (a read replica that follows its source, ...).
    """
    def check(resource, config):
        if applies is not None and not applies(resource.props):
            return
        value = get(resource.props, path)
        if is_unknown(value):
            yield cannot_check(path)
            return
        if value is None:
            if not absent:
                yield f"{path} is not set (off by default): {why}"
        elif not truthy(value):
            yield f"{path} is {value!r}: {why}"
    return check


def require_one_of(path: str, allowed: Iterable[str], why: str, absent: Optional[str] = None,
                   applies: Applies = None, case_sensitive: bool = False):
    """A check: the string setting at ``path`` is one of ``allowed``; ``absent`` is its default when unset."""
    allowed = tuple(allowed)

    def norm(value: Any) -> Any:
        return value if case_sensitive or not isinstance(value, str) else value.lower()

    def check(resource, config):
        if applies is not None and not applies(resource.props):
            return
        value = get(resource.props, path)
        if is_unknown(value):
            yield cannot_check(path)
            return
        effective = absent if value is None else value
        if norm(effective) not in {norm(a) for a in allowed}:
            shown = "not set" if value is None else f"{value!r}"
            yield f"{path} is {shown} (allowed: {', '.join(allowed)}): {why}"
    return check


def require_false(path: str, why: str, absent: bool = False, applies: Applies = None):
    """A check: the setting at dotted ``path`` is off; ``absent`` is the cloud's default when unset."""
    def check(resource, config):
        if applies is not None and not applies(resource.props):
            return
        value = get(resource.props, path)
        if is_unknown(value):
            yield cannot_check(path)
        elif value is None:
            if absent:
                yield f"{path} is not set (on by default): {why}"
        elif truthy(value):
            yield f"{path} is true: {why}"
    return check
