"""Which resource a child's property refers to (a bucket's encryption configuration, a server's parameter, ...).

Previews leave the ids and names of new resources unknown, so a stack rule cannot compare
values alone; the engine's dependencies carry the link instead. Each cloud keeps its own idea
of what a literal value names (``names``); the order of evidence is shared here.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

from .rule import Resource
from .values import is_unknown

_OWN_VALUE = object()


class Correlation(NamedTuple):
    matches: list   # the candidates the property refers to
    decided: bool   # False: an unknown value or several dependencies leave it open until the update


def correlate(child: Resource, prop: str, candidates: Sequence[Resource],
              names: Callable[[Resource, str], bool], value: Any = _OWN_VALUE) -> Correlation:
    """The ``candidates`` that ``child.props[prop]`` refers to, and whether that could be decided.

    Evidence from strongest to weakest: the engine's dependencies of that property (the CLI
    sends them); a literal value known at preview that ``names(candidate, value)`` accepts;
    the child's plain dependencies (all an offline preview records) when exactly one candidate
    is among them. ``value`` overrides ``child.props[prop]`` when the reference sits deeper
    inside the property (a block's key name); the property's dependencies still apply.
    """
    if value is _OWN_VALUE:
        value = child.props.get(prop)
    deps = child.property_dependencies.get(prop)
    if deps:
        dependency_of_prop = {d.urn for d in deps}
        hits = [c for c in candidates if c.urn in dependency_of_prop]
        if hits:
            return Correlation(hits, True)
    if isinstance(value, str) and not is_unknown(value):
        hits = [c for c in candidates if names(c, value)]
        if hits:
            return Correlation(hits, True)
    dependency_urns = {d.urn for d in child.dependencies}
    among = [c for c in candidates if c.urn in dependency_urns]
    if len(among) == 1:
        return Correlation(among, True)
    return Correlation([], not (is_unknown(value) or len(among) > 1))

