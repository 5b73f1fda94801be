"""Check functions that many rules share: "this setting must be on / off", "this value must be one of".

Most single-setting rules differ only in the property they read and why it matters; writing the
unknown handling once keeps every rule's "cannot check during preview" behaviour the same.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

from .rule import cannot_check
from .values import get, is_unknown, truthy

Applies = Optional[Callable[[Mapping[str, Any]], bool]]


def setting_check(path: str, judge: Callable[[Any], Optional[str]], applies: Applies = None):
    """A check on the setting at dotted ``path``: ``judge(value)`` (None when unset) says why it fails, or None.

    ``applies(props)`` False skips the resource (a read replica that follows its source, ...); an
    unknown value is a cannot-check finding.
    """
    def check(resource, config):
        if applies is not None and not applies(resource.props):
            return
        value = get(resource.props, path)
        if is_unknown(value):
            yield cannot_check(path)
            return
        problem = judge(value)
        if problem:
            yield problem
    return check


def require_true(path: str, why: str, absent: bool = False, applies: Applies = None):
    """A check: the setting at dotted ``path`` is true; ``absent`` is the cloud's default when unset."""
    def judge(value):
        if value is None:
            return None if absent else f"{path} is not set (off by default): {why}"
        return None if truthy(value) else f"{path} is {value!r}: {why}"
    return setting_check(path, judge, applies)


def require_false(path: str, why: str, absent: bool = False, applies: Applies = None):
    """A check: the setting at dotted ``path`` is off; ``absent`` is the cloud's default when unset."""
    def judge(value):
        if value is None:
            return f"{path} is not set (on by default): {why}" if absent else None
        return f"{path} is true: {why}" if truthy(value) else None
    return setting_check(path, judge, applies)


def require_one_of(path: str, allowed: Iterable[str], why: str, absent: Optional[str] = None,
                   applies: Applies = None, case_sensitive: bool = False):
    """A check: the string setting at ``path`` is one of ``allowed``; ``absent`` is its default when unset."""
    allowed = tuple(allowed)

    def norm(value: Any) -> Any:
        return value if case_sensitive or not isinstance(value, str) else value.lower()

    def judge(value):
        effective = absent if value is None else value
        if norm(effective) in {norm(a) for a in allowed}:
            return None
        shown = "not set" if value is None else f"{value!r}"
        return f"{path} is {shown} (allowed: {', '.join(allowed)}): {why}"
    return setting_check(path, judge, applies)
