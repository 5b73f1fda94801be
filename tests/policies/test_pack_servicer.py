"""The packs' Analyzer servicer (mlops_policy.pack) answers exactly as pulumi_policy's own, decoding each
resource once per request instead of once per policy (issue 18)."""
import ast
import importlib
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer

from mlops_policy import UNKNOWN, policies
from mlops_policy.pack import SharedDecodeServicer
from mlops_tools.policy.requests import Requests
from mlops_tools.policy.runner import PackInfo, _policy_info, configure_request

ROOT = Path(__file__).resolve().parents[2]
PACKS = ("aws", "azure", "gcp", "kubernetes")
AWS_PROVIDER = "urn:pulumi:test::mlops::pulumi:providers:aws::default"


SIG, SECRET_SIG, ASSET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270",
                              "c44067f5952c0a294b673a41bacd8c17")  # pulumi_policy.deserialize's constants


def _urn(token: str, name: str) -> str:
    return f"urn:pulumi:test::mlops::{token}::{name}"


def _res(token, name, inputs, **extra):
    return {"urn": _urn(token, name), "type": token, "name": name, "custom": True, "parent": None,
            "provider": extra.pop("provider", None), "inputs": inputs, "dependencies": extra.pop("dependencies", []),
            "protect": extra.pop("protect", False), "propertyDependencies": extra.pop("property_dependencies", {})}


def _resources() -> list:
    """A small stack that makes the rules report violations, unknowns and passes, across the four packs."""
    key = _urn("aws:kms/key:Key", "good-key")
    return [
        _res("pulumi:providers:aws", "default", {"region": "eu-west-1", "version": "7.0.0"}),
        _res("aws:kms/key:Key", "good-key", {"enableKeyRotation": True, "description": "k"}, provider=f"{AWS_PROVIDER}::id"),
        _res("aws:kms/key:Key", "bad-key", {"enableKeyRotation": False}, provider=f"{AWS_PROVIDER}::id", protect=True),
        _res("aws:kms/key:Key", "unknown-key", {"enableKeyRotation": UNKNOWN}, provider=f"{AWS_PROVIDER}::id"),
        _res("aws:s3/bucket:Bucket", "data", {"bucket": "data", "tags": {"a": "b"}}, provider=f"{AWS_PROVIDER}::id",
             dependencies=[key], property_dependencies={"bucket": [key]}),
        _res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-pab",
             {"bucket": "data", "blockPublicAcls": False, "blockPublicPolicy": UNKNOWN}),
        _res("aws:rds/instance:Instance", "db", {"storageEncrypted": False, "publiclyAccessible": True}),
        _res("azure-native:storage:StorageAccount", "sa", {"allowBlobPublicAccess": True, "minimumTlsVersion": "TLS1_0"}),
        _res("gcp:storage/bucket:Bucket", "gb", {"uniformBucketLevelAccess": False, "location": "EU"}),
        _res("kubernetes:core/v1:Pod", "pod", {"metadata": {"name": "pod", "namespace": "default"}, "spec": {
            "containers": [{"name": "c", "image": "nginx:latest", "securityContext": {"privileged": True}}]}}),
        _res("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "ml"}}),
        # As the CLI may send them: a secret and an asset in the engine's signature encoding, numbers, nulls.
        _res("aws:rds/instance:Instance", "db-secret", {
            "storageEncrypted": {SIG: SECRET_SIG, "value": False}, "allocatedStorage": 20, "maxAllocatedStorage": 1e3,
            "tags": {"owner": {SIG: SECRET_SIG, "value": "ml"}, "empty": None},
            "parameters": [{"name": "p", "value": {SIG: SECRET_SIG, "value": [1, "x", True]}}]}),
        _res("kubernetes:core/v1:ConfigMap", "cm", {"metadata": {"name": "cm", "namespace": "ml"},
                                                  "data": {"file": {SIG: ASSET_SIG, "text": "password=hunter2"}}}),
    ]


def _foreign_policies() -> list:
    """Policies not built by mlops_policy: they keep the SDK's fresh decode per policy (one changes its props)."""
    def mutate(args, report):
        if "tags" in args.props:
            args.props["tags"] = {"changed": "by-policy"}
            report("mutated")

    def read_tags(args, report):
        if "tags" in args.props:
            report(f"tags {dict(args.props['tags'])}")

    def not_applicable(args, report):
        args.not_applicable("never")

    def stack_tags(args, report):
        for r in args.resources:
            if "tags" in r.props:
                r.props["tags"] = {"changed": "by-stack-policy"}
        for r in args.resources:
            if "tags" in r.props:
                report(f"stack tags {dict(r.props['tags'])}", r.urn)

    return [
        ResourceValidationPolicy("zz-foreign-mutate", "Mutates props.", validate=mutate),
        ResourceValidationPolicy("zz-foreign-read", "Reads props.", validate=read_tags),
        ResourceValidationPolicy("zz-foreign-not-applicable", "Not applicable.", validate=not_applicable),
        ResourceValidationPolicy("zz-foreign-remediate-only", "Remediates only.", remediate=lambda args: None),
        StackValidationPolicy("zz-foreign-stack", "Stack policy that mutates.", validate=stack_tags),
    ]


def _servicer(cls, pack_policies: list, config: dict):
    servicer = cls("mlops-test", "0.0.1", pack_policies, EnforcementLevel.ADVISORY)
    info = servicer.GetAnalyzerInfo(None, None)
    servicer.Configure(configure_request(PackInfo("mlops-test", "1", [_policy_info(p) for p in info.policies]), config), None)
    return servicer


def _rules(pack: str) -> list:
    sys.path.insert(0, str(ROOT / "policies" / pack))
    try:
        return policies(importlib.import_module(f"mlops_{pack}_policies"))
    finally:
        sys.path.remove(str(ROOT / "policies" / pack))


def _answers(servicer, requests: Requests) -> list:
    every = lambda token: True  # noqa: E731
    answers = [servicer.Analyze(r, None).SerializeToString(deterministic=True) for r in requests.analyze(every)]
    return answers + [servicer.AnalyzeStack(requests.stack(every), None).SerializeToString(deterministic=True)]


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_answers_byte_for_byte_as_the_sdk_servicer(pack):
    rules = _rules(pack)
    names = sorted(p.name for p in rules)
    # One rule disabled, one raised to remediate (reported as mandatory), one excluding a resource by name.
    config = {names[0]: "disabled", names[1]: "remediate", names[2]: {"excludeFor": ["bad-*", "pod"]}}
    requests = Requests(_resources())
    ours = _answers(_servicer(SharedDecodeServicer, rules + _foreign_policies(), config), requests)
    sdk = _answers(_servicer(_PolicyAnalyzerServicer, rules + _foreign_policies(), config), requests)
    assert ours == sdk
    text = b"".join(sdk)
    assert b"during preview" in text or pack != "aws"  # the AWS rules see the unknown key rotation
    assert b"changed" in text and b"never" in text  # the foreign policies ran, each on its own decoded props


def test_a_stack_request_decodes_each_resource_once_whatever_the_number_of_rules(monkeypatch):
    rules = _rules("aws") + _rules("kubernetes")
    stack_rules = [p for p in rules if isinstance(p, StackValidationPolicy)]
    assert len(stack_rules) > 10
    requests = Requests(_resources())
    stack_request = requests.stack(lambda token: True)
    servicer = _servicer(SharedDecodeServicer, rules, {})
    decoded = []
    original = json_format.MessageToDict
    monkeypatch.setattr(json_format, "MessageToDict", lambda message, **kw: (decoded.append(1), original(message, **kw))[1])
    servicer.AnalyzeStack(stack_request, None)
    providers = {r.provider.urn for r in stack_request.resources if r.HasField("provider")}
    # The SDK's servicer decodes every resource once per stack policy (here > 10 x 11); ours at most once.
    assert len(decoded) <= len(stack_request.resources) + len(providers)

    decoded.clear()
    for request in requests.analyze(lambda token: True):
        servicer.Analyze(request, None)
    assert len(decoded) <= 2 * len(requests.analyze(lambda token: True))  # its props and its provider's, once


@pytest.mark.parametrize("pack", PACKS)
def test_every_pack_serves_with_the_shared_decode_servicer(pack):
    tree = ast.parse((ROOT / "policies" / pack / "__main__.py").read_text())
    imported = {alias.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    assert imported.get("PolicyPack") == "mlops_policy"
