"""Rules declare the resource types they read; the offline runner filters with that declaration.

The declaration must never be narrower than the rule's own matching (a resource the rule would
check must reach it) and a stack rule that declares its types must see exactly those, whatever
provider they belong to.
"""
import re
import sys
from pathlib import Path

import pytest

from tests.policies.cloud_policy_harness import Res, check_stack
from mlops_policy import SOC2, ResourceRule, StackRule, declared_types, load_rules, type_patterns, violation

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"aws": "mlops_aws_policies", "azure": "mlops_azure_policies", "gcp": "mlops_gcp_policies",
         "kubernetes": "mlops_kubernetes_policies"}
for _pack in PACKS:
    sys.path.insert(0, str(ROOT / "policies" / _pack))



def _rules():
    import importlib
    return [(pack, rule) for pack, module in PACKS.items() for rule in load_rules(importlib.import_module(module))]


def _spellings(token: str) -> set:
    """The token, its API-versioned spellings (azure-native v2 and parameterized SDKs), other versions, near misses."""
    pkg, module, kind = token.split(":")
    found = {token, f"{pkg}:{module}:{kind}Other", f"{pkg}:{module}x:{kind}"}
    if pkg == "azure-native":
        found |= {f"azure-native:{module}/v20230101:{kind}", f"azure-native_{module}_v20240101:{module}/v20240101:{kind}",
                  f"azure-native:{module}/v20230101preview:{kind}"}
    if pkg == "kubernetes" and "/" in module:
        group = module.split("/")[0]
        found |= {f"kubernetes:{group}/v1beta1:{kind}", f"kubernetes:{group}/v2:{kind}Patch"}
    return found


# Every token a rule names, each in the other spellings a rule may or may not accept.
TOKENS = sorted({s for _, rule in _rules() for t in (rule.resource_types or ()) for s in _spellings(t)})


@pytest.mark.parametrize("pack, rule", _rules(), ids=lambda x: x if isinstance(x, str) else x.name)
def test_declared_patterns_match_every_token_the_rule_itself_accepts(pack, rule):
    patterns = type_patterns(rule.resource_types)
    if patterns is None:
        assert isinstance(rule, StackRule) or type(rule.resource_types) not in (tuple, list, set, frozenset)
        return  # the runner sends this pack every resource
    declared = re.compile("|".join(f"(?:{p})" for p in patterns))
    for token in TOKENS:
        assert bool(declared.fullmatch(token)) == (token in rule.resource_types), (rule.name, token)


@pytest.mark.parametrize("pack, rule", [(p, r) for p, r in _rules() if isinstance(r, ResourceRule)],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_resource_rule_of_our_packs_declares_its_types(pack, rule):
    """A resource rule without patterns made the runner send the pack every resource, which the SDK then
    decoded once per rule of the pack (the kubernetes pack: 353 resources x 19 rules in prod; issue 18)."""
    assert type_patterns(rule.resource_types) is not None, f"{type(rule.resource_types).__name__} needs type_patterns()"


def _stack_rule(types):
    def check(stack, _config):
        for r in stack.resources:
            deps = ",".join(sorted(d.name for d in r.dependencies))
            yield violation(f"{r.type} {r.name} deps=[{deps}]", r)
    return StackRule(name="test-kubernetes-service-sees-cloud-lb", description="Test rule.", severity="low",
                     remediation="None.", frameworks=SOC2("CC6.1"), check=check, resource_types=types)


STACK = [
    Res("kubernetes:core/v1:Service", "web", {}, deps=["lb", "ns"]),
    Res("aws:lb/loadBalancer:LoadBalancer", "lb", {}),
    Res("kubernetes:core/v1:Namespace", "ns", {}),
    Res("aws:s3/bucketV2:BucketV2", "logs", {}),
]


def test_a_stack_rule_sees_exactly_its_declared_types_across_providers():
    rule = _stack_rule(("kubernetes:core/v1:Service", "aws:lb/loadBalancer:LoadBalancer"))
    seen = sorted(m for m, _ in check_stack(rule, STACK).violations)
    assert seen == ["aws:lb/loadBalancer:LoadBalancer lb deps=[]", "kubernetes:core/v1:Service web deps=[lb]"]
    assert declared_types([rule]) == {"policies": [rule.name], "resource": [],
                                      "stack": sorted(re.escape(t) for t in rule.resource_types)}


def test_an_undeclared_stack_rule_sees_every_resource_and_declares_all():
    rule = _stack_rule(None)
    assert len(check_stack(rule, STACK).violations) == len(STACK)
    assert declared_types([rule])["stack"] is None


def test_a_custom_type_collection_without_patterns_declares_all():
    class Anything(tuple):
        def __contains__(self, token):
            return True
    rule = ResourceRule(name="test-any-resource-is-anything-at-all", description="Test rule.", severity="low",
                        remediation="None.", frameworks=SOC2("CC6.1"), resource_types=Anything(("x",)),
                        check=lambda r, c: ())
    assert type_patterns(rule.resource_types) is None and declared_types([rule])["resource"] is None


def test_a_stack_rule_unwraps_only_the_props_its_check_reads():
    """Unwrapping every resource's props for every stack rule was a quarter of a pack's stack analysis (issue 18):
    the view unwraps a resource's props when the check first reads them, and gives the same values."""
    seen = {}

    def check(stack, _config):
        seen["stack"] = stack
        for r in stack.resources:
            if r.type == "aws:s3/bucketV2:BucketV2":
                yield violation(f"{r.name} acl={r.props.get('acl')}", r)

    rule = StackRule(name="test-aws-bucket-reads-only-buckets", description="Test rule.", severity="low",
                     remediation="None.", frameworks=SOC2("CC6.1"), check=check)
    stack = [Res("aws:s3/bucketV2:BucketV2", "logs", {"acl": "private"}), Res("kubernetes:core/v1:Namespace", "ns", {"x": 1})]
    assert [m for m, _ in check_stack(rule, stack).violations] == ["logs acl=private"]
    unread = [r for r in seen["stack"].resources if r.name == "ns"][0]
    assert "props" not in vars(unread) and unread.props == {"x": 1} and "props" in vars(unread)
