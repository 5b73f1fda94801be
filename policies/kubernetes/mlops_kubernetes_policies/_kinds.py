"""Kubernetes type tokens as the rules match them: by API group and kind, any version, ``*Patch`` too.

pulumi-kubernetes registers ``kubernetes:<group>/<version>:<Kind>`` (core is ``core/v1``); every
kind also has a server-side-apply ``<Kind>Patch`` resource with the same shape whose fields are all
optional. A patch that sets ``privileged: true`` on someone else's Deployment is as dangerous as a
Deployment that does, so rules see both. Custom resources (Argo, Kubeflow, KubeRay, KServe) use the
same token form with their own group.
"""
from __future__ import annotations

import re
from typing import Iterator, Optional

from mlops_policy import cannot_check, is_unknown

_TOKEN = re.compile(r"^kubernetes:(?P<group>[A-Za-z0-9.-]+)/(?P<version>[A-Za-z0-9]+):(?P<kind>[A-Za-z0-9]+)$")


def group_kind(token: str) -> Optional[tuple]:
    """(group, Kind, is_patch) of a Kubernetes type token, else None."""
    match = _TOKEN.match(token) if isinstance(token, str) else None
    if not match:
        return None
    kind = match["kind"]
    patch = kind.endswith("Patch") and len(kind) > len("Patch")
    return match["group"], kind[: -len("Patch")] if patch else kind, patch


class KubeTypes(tuple):
    """Type filter for ``ResourceRule``: the listed (group, Kind) pairs in any version, and their patches."""

    def __new__(cls, pairs):
        pairs = tuple(pairs)
        self = super().__new__(cls, tuple(f"kubernetes:{g}/v1:{k}" for g, k in pairs))
        self.pairs = frozenset(pairs)
        return self

    def __contains__(self, token: object) -> bool:  # type: ignore[override]
        parsed = group_kind(token) if isinstance(token, str) else None
        return parsed is not None and (parsed[0], parsed[1]) in self.pairs

    def type_patterns(self) -> list:
        """The same matching as ``__contains__``, as regexes the offline runner filters with.

        Without them the runner sent every resource of the stack to the kubernetes pack, where the SDK
        decodes each one once per rule: 1.4 s of the prod stack's 2.1 s of pack CPU (issue 18).
        """
        return sorted(f"kubernetes:{re.escape(group)}/[A-Za-z0-9]+:{re.escape(kind)}(?:Patch)?"
                      for group, kind in self.pairs)


def kube_types(*pairs: tuple) -> KubeTypes:
    return KubeTypes(pairs)


RBAC = "rbac.authorization.k8s.io"
ROLE_TYPES = kube_types((RBAC, "Role"), (RBAC, "ClusterRole"))
CLUSTER_ROLE_TYPES = kube_types((RBAC, "ClusterRole"))
BINDING_TYPES = kube_types((RBAC, "RoleBinding"), (RBAC, "ClusterRoleBinding"))
CLUSTER_BINDING_TYPES = kube_types((RBAC, "ClusterRoleBinding"))
SERVICE_TYPES = kube_types(("core", "Service"))
CONFIG_MAP_TYPES = kube_types(("core", "ConfigMap"))
NAMESPACE_TYPES = kube_types(("core", "Namespace"))


def role_rules(resource, fields: tuple = ()) -> Iterator:
    """(index, rule) for each known rule of a Role/ClusterRole, or a cannot-check Finding for an unknown one.

    ``fields`` are the rule keys the caller needs known (a rule with one of them unknown is a cannot-check).
    """
    rules = resource.props.get("rules")
    if is_unknown(rules):
        yield cannot_check("rules")
        return
    for i, rule in enumerate(rules or []):
        if is_unknown(rule) or any(is_unknown(rule.get(k)) for k in fields):
            yield cannot_check(f"rules[{i}]")
        else:
            yield i, rule
