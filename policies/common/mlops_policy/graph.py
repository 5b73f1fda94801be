"""What must exist before a resource is created: its dependencies, those of its parents, transitively.

Stack rules about creation order (a CMK store after its key grant, a GCP resource after its API)
ask whether one resource is among another's prerequisites. The engine creates a resource after
everything in its ``dependencies`` (explicit ``depends_on`` plus every resource whose outputs feed
its inputs); a ``depends_on`` on a component resource reaches its children through the parent
chain, so a resource's ancestors' dependencies count too.
"""
from __future__ import annotations

from .rule import Resource


def prerequisites(resource: Resource) -> set:
    """URNs of every resource the engine creates before ``resource`` (transitively)."""
    seen: set = set()
    pending = []
    node = resource
    while node is not None:  # the resource and its ancestors
        pending.extend(node.dependencies)
        node = node.parent
    while pending:
        dependency = pending.pop()
        if dependency.urn in seen:
            continue
        seen.add(dependency.urn)
        pending.extend(dependency.dependencies)
        parent = dependency.parent
        while parent is not None:
            pending.extend(parent.dependencies)
            parent = parent.parent
    return seen


def created_after(resource: Resource, prerequisite: Resource) -> bool:
    """True when the engine creates ``resource`` only after ``prerequisite`` exists."""
    return prerequisite.urn in prerequisites(resource)
