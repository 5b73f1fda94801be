"""The shared rule library: policy-document normalisation, plain values, rule declaration, correlation."""
import pytest
from pulumi_policy import StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from mlops_policy import (
    SOC2,
    UNKNOWN,
    CannotCheckDuringPreview,
    PolicyDocumentError,
    Resource,
    ResourceRule,
    StackRule,
    correlate,
    load_rules,
    parse_policy_document,
    plain,
)


def test_documents_normalise_every_spelling():
    [statement] = parse_policy_document({
        "statement": {"effect": "Deny", "notaction": "iam:*", "NotResource": ["arn:aws:s3:::a"],
                      "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-1", "o-2"], "aws:SourceVpc": "vpc-1"}}}})
    assert statement.effect == "Deny" and not statement.allows
    assert statement.actions is None and statement.not_actions == ("iam:*",)
    assert statement.not_resources == ("arn:aws:s3:::a",)
    assert statement.not_principals == {"AWS": ("arn:aws:iam::1:root",)}
    assert statement.conditions == {"StringEquals": {"aws:PrincipalOrgID": ("o-1", "o-2"), "aws:SourceVpc": ("vpc-1",)}}
    assert statement.condition_keys() == {"aws:principalorgid", "aws:sourcevpc"}


@pytest.mark.parametrize("principal, anyone", [
    ("*", True), ({"AWS": "*"}, True), ({"AWS": ["arn:aws:iam::1:root", "*"]}, True),
    ({"Service": "*"}, False), ("arn:aws:iam::1:root", False), ({"Federated": "cognito-identity.amazonaws.com"}, False),
])
def test_principal_is_anyone(principal, anyone):
    [statement] = parse_policy_document({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "x:Y"}]})
    assert statement.principal_is_anyone() is anyone


def test_unknown_empty_and_malformed_documents():
    assert parse_policy_document(UNKNOWN) is None
    assert parse_policy_document({"Statement": [UNKNOWN]}) is None
    assert parse_policy_document("") == [] and parse_policy_document(None) == []
    for bad in ("[1, 2]", "{oops", {"Statement": "text"}, {"Statement": [{"Effect": "Allow", "Condition": "x"}]}):
        with pytest.raises(PolicyDocumentError):
            parse_policy_document(bad)


def test_plain_unwraps_the_sdk_proxy_and_keeps_unknowns():
    proxied = unknown_checking_proxy({"a": {"b": [1, UNKNOWN]}, "c": UNKNOWN})
    with pytest.raises(UnknownValueError):
        proxied["c"]  # the SDK's own proxy raises on access ...
    assert plain(proxied) == {"a": {"b": [1, UNKNOWN]}, "c": UNKNOWN}  # ... the rule sees the sentinel


def test_plain_gives_fresh_plain_containers_for_every_shape_props_take():
    """plain() has fast paths for exact dicts, lists, scalars and the SDK's proxies (issue 18); every shape,
    secrets proxies and tuples included, still comes back as plain dicts and lists, and never the input itself."""
    from pulumi_policy.secret import secrets_preserving_proxy

    tree = {"n": None, "b": True, "i": 3, "f": 1.5, "s": "x", "u": UNKNOWN, "t": (1, "a"),
            "l": [{"k": [1, {"d": UNKNOWN}]}, []], "m": {1: "int key"}}
    expected = {"n": None, "b": True, "i": 3, "f": 1.5, "s": "x", "u": UNKNOWN, "t": [1, "a"],
                "l": [{"k": [1, {"d": UNKNOWN}]}, []], "m": {"1": "int key"}}
    for value in (tree, unknown_checking_proxy(tree), secrets_preserving_proxy(tree)):
        result = plain(value)
        assert result == expected
        assert type(result) is dict and type(result["l"]) is list and type(result["l"][0]["k"][1]) is dict
        result["l"][0]["k"].append("changed")  # a check's copy: the input is untouched
        assert tree["l"][0]["k"] == [1, {"d": UNKNOWN}]


def _rule(**overrides):
    fields = dict(name="aws-test-thing-enable-check", description="Test rule.", severity="low", remediation="fix",
                  frameworks=SOC2("CC6.1"), resource_types=("aws:s3/bucket:Bucket",), check=lambda r, c: ())
    return ResourceRule(**{**fields, **overrides})


@pytest.mark.parametrize("overrides, message", [
    ({"name": "bucket-encryption"}, "must read <cloud>-<service>-<resource>-<verb>-<thing>"),
    ({"description": "no full stop"}, "one sentence"),
    ({"frameworks": ()}, "framework"),
    ({"resource_types": ()}, "resource_types"),
])
def test_rule_declarations_are_validated(overrides, message):
    with pytest.raises(ValueError, match=message):
        _rule(**overrides)


def test_cannot_check_is_the_sdks_unknown_value_error():
    error = CannotCheckDuringPreview(["db: publiclyAccessible"])
    assert isinstance(error, UnknownValueError)
    assert error.message == "cannot check during preview: db: publiclyAccessible (unknown until the update runs)"


def test_stack_rules_become_stack_policies_and_duplicate_names_are_refused(tmp_path, monkeypatch):
    stack_rule = StackRule(name="aws-test-stack-enable-check", description="Test rule.", severity="low",
                           remediation="fix", frameworks=SOC2("CC6.1"), check=lambda s, c: ())
    assert isinstance(stack_rule.policy, StackValidationPolicy)
    package = tmp_path / "dup_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    body = ("from mlops_policy import SOC2, ResourceRule\n"
            "RULE = ResourceRule(name='aws-test-thing-enable-check', description='T.', severity='low', remediation='r',"
            " frameworks=SOC2('CC6.1'), resource_types=('x',), check=lambda r, c: ())\n")
    (package / "one.py").write_text(body)
    (package / "two.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    import dup_rules
    with pytest.raises(ValueError, match="duplicate rule names"):
        load_rules(dup_rules)


# --- correlate: which candidate a child's property refers to ----------------------------------

def _res(name, props=None, deps=(), prop_deps=None):
    return Resource("test:x:X", name, f"urn:test::{name}", props or {}, dependencies=list(deps),
                    property_dependencies=prop_deps or {})


def _by_name(candidate, value):
    return candidate.props.get("name") == value


A, B = _res("a", {"name": "alpha"}), _res("b", {"name": "beta"})


@pytest.mark.parametrize("child, value, expected", [
    (_res("c", {"parent": UNKNOWN}, prop_deps={"parent": [A, B]}), None, [A, B]),    # the engine's property deps
    (_res("c", {"parent": "alpha"}, prop_deps={"parent": [B]}), None, [B]),          # ... outrank the value
    (_res("c", {"parent": "beta"}), None, [B]),                                      # a literal the matcher accepts
    (_res("c", {"parent": {"key": "alpha"}}), "alpha", [A]),                         # a reference deeper in the prop
    (_res("c", {"parent": UNKNOWN}, deps=[A, _res("other")]), None, [A]),            # the one candidate depended on
])
def test_correlate_finds_the_referenced_candidate(child, value, expected):
    kwargs = {} if value is None else {"value": value}
    assert correlate(child, "parent", [A, B], _by_name, **kwargs) == (expected, True)


@pytest.mark.parametrize("child", [
    _res("c", {"parent": "gamma"}),                                                  # names no candidate
    _res("c", {"parent": "gamma"}, deps=[_res("other")]),                            # ... nor do the deps
    _res("c", {}, prop_deps={"parent": [_res("other")]}),                            # depends on a non-candidate
])
def test_correlate_decides_that_nothing_is_referenced(child):
    assert correlate(child, "parent", [A, B], _by_name) == ([], True)


@pytest.mark.parametrize("child", [
    _res("c", {"parent": UNKNOWN}),                                                  # unknown, no dependency
    _res("c", {"parent": UNKNOWN}, deps=[A, B]),                                     # unknown, two candidates
    _res("c", {"parent": "gamma"}, deps=[A, B]),                                     # names none, two candidates
])
def test_correlate_is_undecidable_during_preview(child):
    result = correlate(child, "parent", [A, B], _by_name)
    assert result.matches == [] and not result.decided


def test_prerequisites_follow_dependencies_transitively_and_through_parents():
    from mlops_policy import Resource, created_after, prerequisites

    grant = Resource("t:grant", "grant", "urn:grant", {})
    gate = Resource("t:gate", "gate", "urn:gate", {}, dependencies=[grant])
    component = Resource("mlops:x:Component", "component", "urn:component", {}, dependencies=[gate])
    child = Resource("t:store", "store", "urn:store", {}, parent=component)
    loner = Resource("t:store", "loner", "urn:loner", {}, dependencies=[gate.parent] if gate.parent else [])
    assert prerequisites(child) == {"urn:gate", "urn:grant"}
    assert created_after(child, grant) and not created_after(loner, grant) and not created_after(grant, child)


def test_stack_rules_see_the_protect_option_and_select_types_with_a_filter_collection():
    """``Resource.protect`` carries Pulumi's protect; ``Stack.of_types`` takes the packs' __contains__ filters."""
    from mlops_policy import violation
    from tests.policies.cloud_policy_harness import Res, check_stack

    class KeyTypes(tuple):
        def __contains__(self, token):  # every Cloud KMS key type, present and future
            return isinstance(token, str) and token.startswith("gcp:kms/cryptoKey")

    def check(stack, config):
        for key in stack.of_types(KeyTypes()):
            if not key.protect:
                yield violation(f"{key.name} is not protected", key)

    rule = StackRule(name="gcp-kms-cryptokey-require-test-protect", description="Keys are protected.",
                     severity="low", remediation="Protect it.", frameworks=SOC2("CC6.1"), check=check)
    stack = [Res("gcp:kms/cryptoKey:CryptoKey", "data", {}), Res("gcp:kms/cryptoKey:CryptoKey", "kept", {}, protect=True),
             Res("gcp:storage/bucket:Bucket", "b", {})]
    outcome = check_stack(rule, stack)
    assert outcome.violations == [("data is not protected", stack[0].urn)]


def test_a_stack_finds_its_resources_by_type_in_stack_order_and_sees_them_change():
    """`of_type` answers from an index built once (rules ask it per resource checked; a scan each time made
    stack rules quadratic: 2,000 buckets took 1.5 s), with the answers of the scan it replaced."""
    from mlops_policy import Stack

    def res(name, token):
        return Resource(token, name, f"urn:{name}", {})

    resources = [res("a", "t:one"), res("b", "t:two"), res("c", "t:one"), res("d", "t:three")]
    stack = Stack(resources)
    assert [r.name for r in stack.of_type("t:one")] == ["a", "c"]
    assert [r.name for r in stack.of_type("t:three", "t:one")] == ["a", "c", "d"]  # stack order, not argument order
    assert stack.of_type("t:none") == [] and stack.of_type() == []
    mine = stack.of_type("t:one")
    mine.clear()  # a rule may change its list: the stack's answer does not
    assert [r.name for r in stack.of_type("t:one")] == ["a", "c"]
    stack.resources.append(res("e", "t:one"))
    assert [r.name for r in stack.of_type("t:one")] == ["a", "c", "e"]
    stack.resources = [res("f", "t:two")]
    assert [r.name for r in stack.of_type("t:two")] == ["f"] and stack.of_type("t:one") == []
