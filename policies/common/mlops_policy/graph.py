"""What must exist before a resource is created: its dependencies, those of its parents, transitively.

Stack rules about creation order (a CMK store after its key grant, a GCP resource after its API)
ask whether one resource is among another's prerequisites. The engine creates a resource after
everything in its ``dependencies`` (explicit ``depends_on`` plus every resource whose outputs feed
its inputs); a ``depends_on`` on a component resource reaches its children through the parent
chain, so a resource's ancestors' dependencies count too.
"""
from __future__ import annotations

from .correlate import correlate
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


def dependents(resources, resource: Resource) -> list:
    """The resources that depend on ``resource`` directly (its outputs feed them, or ``depends_on``).

    The reverse of ``dependencies``: what uses a resource (a security group nobody depends on is
    attached to nothing).
    """
    return [r for r in resources if any(d.urn == resource.urn for d in r.dependencies)]


def linked_to(child: Resource, prop: str, candidates) -> list:
    """The ``candidates`` that ``child.props[prop]`` refers to when only the engine's links can tell.

    For ids a preview leaves unknown (a VPC id, a server name chosen by the cloud): the property's
    dependencies, else the one candidate among the child's dependencies (see ``correlate``).
    """
    return correlate(child, prop, candidates, lambda candidate, value: False).matches
