"""Declare a rule once (metadata + check) and get a pulumi_policy Policy from it.

How "cannot check during preview" works: a check yields ``cannot_check(...)`` for a
property whose value is unknown and decides the outcome. After reporting every definite
violation, the wrapper raises ``CannotCheckDuringPreview`` (a subclass of the SDK's
``UnknownValueError``). The SDK turns that into one ADVISORY diagnostic for the policy,
whatever the policy's own enforcement level, with the message
"can't run policy '<name>' ... during preview: cannot check during preview: <what>".
So an unknown never passes silently and never blocks an update on its own.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from .values import plain

# --- compliance frameworks -------------------------------------------------------------


@dataclass(frozen=True)
class Framework:
    """A compliance framework; calling it with control ids gives Controls."""

    id: str           # short id used in policy tags, e.g. "cis-aws-foundations-v3.0.0"
    name: str         # human name, e.g. "CIS Amazon Web Services Foundations Benchmark"
    version: str

    def __call__(self, *control_ids: str) -> tuple["Control", ...]:
        return tuple(Control(self, c) for c in control_ids)


@dataclass(frozen=True)
class Control:
    framework: Framework
    control_id: str

    @property
    def tag(self) -> str:
        return f"{self.framework.id}:{self.control_id}"


CIS_AWS = Framework("cis-aws-foundations-v3.0.0", "CIS Amazon Web Services Foundations Benchmark", "3.0.0")
CIS_EKS = Framework("cis-eks-v1.5.0", "CIS Amazon Elastic Kubernetes Service (EKS) Benchmark", "1.5.0")
CIS_KUBERNETES = Framework("cis-kubernetes-v1.9.0", "CIS Kubernetes Benchmark", "1.9.0")
CIS_AZURE = Framework("cis-azure-foundations-v2.1.0", "CIS Microsoft Azure Foundations Benchmark", "2.1.0")
CIS_GCP = Framework("cis-gcp-foundations-v3.0.0", "CIS Google Cloud Platform Foundation Benchmark", "3.0.0")
SOC2 = Framework("soc2", "AICPA SOC 2 Trust Services Criteria", "2017 (rev. 2022)")
ISO27001 = Framework("iso27001-2022", "ISO/IEC 27001:2022 Annex A", "2022")
PCI_DSS = Framework("pci-dss-v4.0", "PCI DSS", "4.0")


# --- findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One outcome of a check. ``urn``/``name`` name the resource (stack rules must set them)."""

    message: str
    unknown: bool = False
    urn: Optional[str] = None
    name: Optional[str] = None


def violation(message: str, resource: Any = None) -> Finding:
    return Finding(message, False, getattr(resource, "urn", None), getattr(resource, "name", None))


def cannot_check(what: str, resource: Any = None) -> Finding:
    """``what`` names the unknown input, e.g. "publiclyAccessible"."""
    return Finding(what, True, getattr(resource, "urn", None), getattr(resource, "name", None))


class CannotCheckDuringPreview(UnknownValueError):
    """Raised after all definite violations are reported; the SDK reports it as ADVISORY."""

    def __init__(self, items: Sequence[str]):
        super().__init__(UNKNOWN_STRING_VALUE, [])
        self.items = list(items)
        self.message = "cannot check during preview: " + "; ".join(self.items) + \
            " (unknown until the update runs)"


# --- the resource view handed to checks ----------------------------------------------------


@dataclass(eq=False)
class Resource:
    """Plain-data view of one resource (props are engine camelCase names)."""

    type: str
    name: str
    urn: str
    props: dict
    provider_props: dict = field(default_factory=dict)
    parent: Optional["Resource"] = None
    dependencies: list = field(default_factory=list)           # list[Resource]
    property_dependencies: dict = field(default_factory=dict)  # prop -> list[Resource]
    protect: bool = False  # the Pulumi ``protect`` option (the engine refuses to delete the resource)


@dataclass(eq=False)
class Stack:
    resources: list  # list[Resource]
    # (the resources it was built from, their count, type token -> its resources in stack order, id -> position),
    # built on the first `of_type`: rules ask it once per resource they check, and a scan of the whole stack
    # each time made stack rules quadratic (issue 18)
    _by_type: Optional[tuple] = field(default=None, init=False, repr=False)

    def of_type(self, *types: str) -> list:
        """The resources of these type tokens, in stack order (a new list each call)."""
        index, position = self._type_index()
        present = [t for t in dict.fromkeys(types) if t in index]
        if len(present) == 1:
            return list(index[present[0]])
        return sorted((r for t in present for r in index[t]), key=lambda r: position[id(r)])

    def _type_index(self) -> tuple:
        built = self._by_type
        if built is None or built[0] is not self.resources or built[1] != len(self.resources):
            index: dict = {}
            position: dict = {}
            for at, resource in enumerate(self.resources):
                index.setdefault(resource.type, []).append(resource)
                position[id(resource)] = at
            built = self._by_type = (self.resources, len(self.resources), index, position)
        return built[2], built[3]

    def of_types(self, types: Any) -> list:
        """The resources whose type is in ``types``: any collection, including the packs' type filters with
        their own ``__contains__`` (every IAM shape, every Kubernetes kind in any version, ...)."""
        return [r for r in self.resources if r.type in types]

    def by_urn(self) -> dict:
        return {r.urn: r for r in self.resources}


class _StackResource(Resource):
    """A stack view's resource whose props are unwrapped from the SDK's proxies on first read.

    Why: every stack rule gets the whole stack and most read the props of a few types only;
    unwrapping every resource for every rule was a quarter of a pack's stack analysis (issue 18).
    """

    def __init__(self, r: Any):
        super().__init__(r.resource_type, r.name, r.urn, {}, protect=bool(getattr(r.opts, "protect", False)))
        del self.props, self.provider_props  # resolved by __getattr__ when a check reads them
        self._source = r

    def __getattr__(self, name: str) -> Any:
        if name == "props":
            self.props = plain(self._source.props)
            return self.props
        if name == "provider_props":
            provider = self._source.provider
            self.provider_props = plain(provider.props) if provider is not None else {}
            return self.provider_props
        raise AttributeError(name)


def _stack_view(args: StackValidationArgs, wanted: Optional[Callable[[str], bool]] = None) -> Stack:
    """The stack as Resources; with `wanted`, only resources of the types it accepts, and their
    parents/dependencies among those (the others drop out of the view)."""
    views: dict = {}
    for r in args.resources:
        if wanted is None or wanted(r.resource_type):
            views[id(r)] = _StackResource(r)
    for r in args.resources:
        view = views.get(id(r))
        if view is None:
            continue
        view.parent = views.get(id(r.parent)) if r.parent is not None else None
        view.dependencies = [views[id(d)] for d in r.dependencies if id(d) in views]
        view.property_dependencies = {
            k: [views[id(d)] for d in deps if id(d) in views]
            for k, deps in (r.property_dependencies or {}).items()
        }
    return Stack(list(views.values()))


# --- which resource types a rule reads ----------------------------------------------------


def type_patterns(types: Any) -> Optional[list]:
    """Regular expressions (full match) for the type tokens in ``types``; None when it cannot say.

    Why: the offline runner sends each pack only the resources its rules read, instead of every
    resource to every rule. A plain tuple/list/set of tokens declares exactly those tokens; a
    collection with its own matching (``__contains__`` over API versions, say) declares it with a
    ``type_patterns()`` method. Anything else (None = "every resource", or a custom collection
    without ``type_patterns``) answers None, and the runner then sends everything: never too little.
    """
    if types is None:
        return None
    declared = getattr(types, "type_patterns", None)
    if callable(declared):
        return sorted(declared())
    if type(types) in (tuple, list, set, frozenset):
        return sorted(re.escape(token) for token in types)
    return None


# --- rules ------------------------------------------------------------------------------

EXCLUDE_FOR_SCHEMA = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "Resource names or URNs (fnmatch patterns) this rule does not apply to.",
}

CheckResult = Iterable[Union[str, Finding]]


def _excluded(config: Mapping[str, Any], name: Optional[str], urn: Optional[str]) -> bool:
    patterns = config.get("excludeFor") or []
    return any(
        (name is not None and fnmatch.fnmatchcase(name, p)) or (urn is not None and fnmatch.fnmatchcase(urn, p))
        for p in patterns
    )


def _findings(result: Optional[CheckResult]) -> Iterator[Finding]:
    for item in result or ():
        yield Finding(item) if isinstance(item, str) else item


@dataclass(frozen=True)
class _RuleMetadata:
    name: str
    description: str
    severity: str
    remediation: str
    frameworks: tuple  # tuple[Control, ...]; the first one is the primary framework
    enforcement: str = "advisory"
    tags: tuple = ()
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.name.split("-")) < 5:
            raise ValueError(f"rule name {self.name!r} must read <cloud>-<service>-<resource>-<verb>-<thing>")
        if not self.description.endswith("."):
            raise ValueError(f"rule {self.name}: description must be one sentence ending with '.'")
        if not self.frameworks:
            raise ValueError(f"rule {self.name}: at least one framework control is required")

    def _policy_kwargs(self) -> dict:
        primary = self.frameworks[0]
        return dict(
            name=self.name,
            description=self.description,
            enforcement_level=EnforcementLevel(self.enforcement),
            severity=Severity(self.severity),
            remediation_steps=self.remediation,
            framework=PolicyComplianceFramework(
                name=primary.framework.name,
                version=primary.framework.version,
                reference=primary.control_id,
                specification=primary.framework.id,
            ),
            tags=[c.tag for c in self.frameworks] + list(self.tags),
            config_schema=PolicyConfigSchema(
                properties={"excludeFor": EXCLUDE_FOR_SCHEMA, **{k: dict(v) for k, v in self.config.items()}}
            ),
        )

    @property
    def framework_tags(self) -> list:
        return [c.tag for c in self.frameworks]


@dataclass(frozen=True)
class ResourceRule(_RuleMetadata):
    """A rule over single resources of the given type tokens."""

    resource_types: tuple = ()
    check: Callable[[Resource, Mapping[str, Any]], CheckResult] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.resource_types or self.check is None:
            raise ValueError(f"rule {self.name}: resource_types and check are required")

    def validate(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in self.resource_types:
            return
        config = args.get_config() or {}
        if _excluded(config, args.name, args.urn):
            return
        provider_props = plain(args.provider.props) if args.provider is not None else {}
        resource = Resource(args.resource_type, args.name, args.urn, plain(args.props), provider_props,
                            protect=bool(getattr(args.opts, "protect", False)))
        unknown = []
        for finding in _findings(self.check(resource, config)):
            if finding.unknown:
                unknown.append(finding.message)
            else:
                report(finding.message)
        if unknown:
            raise CannotCheckDuringPreview([f"{args.name}: {u}" for u in unknown])

    @property
    def policy(self) -> ResourceValidationPolicy:
        return _ResourceRulePolicy(self)


@dataclass(frozen=True)
class StackRule(_RuleMetadata):
    """A rule that needs the whole stack (correlating resources). Findings must name a resource.

    ``resource_types`` declares the types the check reads, all of them, including the ones it
    correlates across providers (a Kubernetes rule that looks at cloud load balancers lists
    those too). The check then sees only those resources, under the CLI and offline alike, and
    parents/dependencies of other types drop out of the view; so a declaration that is too
    narrow fails the rule's own tests instead of hiding only in the offline runner. None (the
    default) means the check reads every resource (e.g. "which resources use this key").
    """

    check: Callable[[Stack, Mapping[str, Any]], CheckResult] = None  # type: ignore[assignment]
    resource_types: Any = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.check is None:
            raise ValueError(f"rule {self.name}: check is required")

    def _view(self, args: StackValidationArgs) -> Stack:
        if self.resource_types is None:
            return _stack_view(args)
        return _stack_view(args, lambda token: token in self.resource_types)

    def validate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        config = args.get_config() or {}
        unknown = []
        for finding in _findings(self.check(self._view(args), config)):
            if _excluded(config, finding.name, finding.urn):
                continue
            if finding.unknown:
                unknown.append(f"{finding.name}: {finding.message}" if finding.name else finding.message)
            else:
                report(finding.message, finding.urn)
        if unknown:
            raise CannotCheckDuringPreview(unknown)

    @property
    def policy(self) -> StackValidationPolicy:
        return _StackRulePolicy(self)


Rule = Union[ResourceRule, StackRule]


class RulePolicy:
    """Marks the SDK policy of a rule of this library (``.rule`` is the rule).

    The pack's servicer (pack.py) relies on what these rules promise: a ResourceRule reads only the
    types it declares, and no check changes the props it is given (they read copies, `plain`).
    """

    rule: Rule


class _ResourceRulePolicy(RulePolicy, ResourceValidationPolicy):
    def __init__(self, rule: ResourceRule):
        super().__init__(validate=rule.validate, **rule._policy_kwargs())
        self.rule = rule


class _StackRulePolicy(RulePolicy, StackValidationPolicy):
    def __init__(self, rule: StackRule):
        super().__init__(validate=rule.validate, **rule._policy_kwargs())
        self.rule = rule
