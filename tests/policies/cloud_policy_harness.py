"""Run one rule through the public pulumi_policy API, the way the Analyzer server calls it.

Used by the Azure and GCP pack tests: props go through the SDK's unknown-checking proxy,
``UnknownValueError`` becomes the advisory "cannot check during preview" outcome.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Optional

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

UNKNOWN = UNKNOWN_STRING_VALUE


@dataclass
class Outcome:
    violations: list = field(default_factory=list)   # [(message, urn or None)]
    cannot_check: Optional[str] = None                # the advisory message, when raised

    @property
    def messages(self) -> list:
        return [m for m, _ in self.violations]

    @property
    def passed(self) -> bool:
        return not self.violations and self.cannot_check is None


def _opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def urn_of(resource_type: str, name: str) -> str:
    return f"urn:pulumi:test::mlops::{resource_type}::{name}"


def check_resource(rule, resource_type: str, props: dict, name: str = "res", config: Optional[dict] = None,
                   provider_props: Optional[dict] = None, protect: bool = False) -> Outcome:
    policy = rule.policy
    provider = None
    if provider_props is not None:
        package = resource_type.split(":")[0]
        provider = PolicyProviderResource(f"pulumi:providers:{package}", provider_props,
                                          urn_of(f"pulumi:providers:{package}", "default"), "default")
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(props), urn_of(resource_type, name), name,
                                  _opts(protect), provider, config or {})
    outcome = Outcome()
    try:
        policy.validate(args, lambda message, urn=None: outcome.violations.append((message, urn)))
    except UnknownValueError as error:
        outcome.cannot_check = error.message
    return outcome


@dataclass
class Res:
    """A resource of a test stack; ``deps`` / ``prop_deps`` name other Res by their name."""

    type: str
    name: str
    props: dict
    deps: list = field(default_factory=list)
    prop_deps: dict = field(default_factory=dict)
    parent: Optional[str] = None  # the name of another Res (a component) this one is a child of
    protect: bool = False         # the Pulumi protect option

    @property
    def urn(self) -> str:
        return urn_of(self.type, self.name)


def check_stack(rule, resources: list, config: Optional[dict] = None) -> Outcome:
    assert len({r.name for r in resources}) == len(resources), "test stack resources need distinct names"
    built: dict = {}
    for r in resources:
        built[r.name] = PolicyResource(r.type, unknown_checking_proxy(r.props), r.urn, r.name, _opts(r.protect), None,
                                       None, [], {})
    for r in resources:
        built[r.name].dependencies = [built[d] for d in r.deps]
        built[r.name].property_dependencies = {k: [built[d] for d in v] for k, v in r.prop_deps.items()}
        built[r.name].parent = built[r.parent] if r.parent else None
    outcome = Outcome()
    args = StackValidationArgs([built[r.name] for r in resources], config or {})
    try:
        rule.policy.validate(args, lambda message, urn=None: outcome.violations.append((message, urn)))
    except UnknownValueError as error:
        outcome.cannot_check = error.message
    return outcome


def rules_of(package) -> dict:
    """name -> rule for every rule module of a pack's rule package."""
    from mlops_policy import load_rules

    return {rule.name: rule for rule in load_rules(package)}


def assert_pack_describes_every_rule(pack, package) -> None:
    """GetAnalyzerInfo (as the CLI sees it) lists each rule with its severity, description and level."""
    rules = rules_of(package)
    assert {p.name for p in pack.policies} == set(rules)
    for info in pack.policies:
        rule = rules[info.name]
        assert (info.severity, info.description, info.enforcement_level) == (rule.severity, rule.description, rule.enforcement)
        assert info.remediation == rule.remediation and info.frameworks == rule.framework_tags


def resource(type_: str, name: str, inputs: dict, dependencies: tuple = ()) -> dict:
    """A resource the way preview_program() reports it, for run_policy_packs."""
    return {"urn": urn_of(type_, name), "type": type_, "name": name, "custom": True, "parent": None, "provider": None,
            "inputs": inputs, "dependencies": list(dependencies), "protect": False}


def variant(base: dict, **changes) -> dict:
    """A deep copy of ``base`` with ``a__b`` path changes; a value of ``...`` deletes the key."""
    props = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = props
        for key in parents:
            target = target.setdefault(key, {})
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return props


def case_ids(cases: list) -> list:
    """pytest ids for (rule module, type, base props, changes, expected) cases."""
    return [f"{case[0].RULE.name}-{i}" for i, case in enumerate(cases)]


def assert_hardened_passes_and_variant_fails(module, resource_type: str, base: dict, changes: dict, expected: str) -> None:
    """The hardened props pass the module's rule; the changed ones give exactly one violation saying ``expected``."""
    assert check_resource(module.RULE, resource_type, base).passed
    outcome = check_resource(module.RULE, resource_type, variant(base, **changes))
    assert len(outcome.violations) == 1, outcome
    assert expected in outcome.messages[0]
