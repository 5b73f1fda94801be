"""Serve a pack's rules over the Analyzer protocol, decoding each resource once per request.

Why (issue 18): pulumi_policy's servicer decodes a resource's properties (protobuf Struct -> dict ->
unknown-checking proxy) once per policy: `Analyze` once per resource rule, whatever the rule's
types, and `AnalyzeStack` the whole stack once per stack rule. With 17 stack rules and 43 resource
rules in the AWS pack that decoding was ~90% of the pack's analysis. This servicer is the SDK's
(same GetAnalyzerInfo, Configure, diagnostics, enforcement levels, unknown handling) with two
changes for the rules this library builds:

- a resource is decoded at most once per request, when a rule first reads it, and the rules of
  the request share it (their checks read props through `values.plain`, which copies); it is decoded
  straight to plain data, without the SDK's unknown-checking proxy the rules never read through;
- a ResourceRule is not called for a resource whose type it does not declare (its `validate`
  returns at once for those: same outcome, without the decoding).

Policies not built by this library (`rule.RulePolicy`) still get a fresh decode each, as under the
SDK. Runs the same under the Pulumi CLI (`pulumi preview --policy-pack`) and the offline runner.
The SDK's servicer is private API: pulumi-policy is pinned (requirements.txt), and
tests/policies/test_pack_servicer.py compares both servicers' responses byte for byte.
"""
from __future__ import annotations

import asyncio
import math
import re
import sys
import time
from concurrent import futures
from inspect import isawaitable
from typing import Any, Dict, List, Optional

import grpc
from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as _sdk
from pulumi_policy.deserialize import SPECIAL_SIG_KEY, _deserialize_property, deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .rule import ResourceRule, RulePolicy

_NAME = re.compile(r"^[a-zA-Z0-9-_.]{1,100}$")  # the SDK's policy pack name rule
_UNSET = object()


def _decode(struct: Any) -> Any:
    """What the SDK hands a policy as props: the Struct decoded, wrapped in the unknown-checking proxy."""
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _plain_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "struct_value":
        return _plain_struct(value.struct_value, nested=True)
    if kind == "list_value":
        return [_plain_value(item) for item in value.list_value.values]
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        if math.isinf(number) or math.isnan(number):  # as json_format refuses them
            raise ValueError(f"Fail to serialize {number} for Value.number_value")
        return number
    return None  # null_value, or unset: json_format's None too


def _plain_struct(struct: Any, nested: bool = False) -> Dict[str, Any]:
    """The Struct decoded as `deserialize_properties(MessageToDict(struct))` decodes it, in one walk, unproxied.

    For this library's rules, which read props through `values.plain` (plain data, unknowns as the
    engine's sentinel strings) and never through the SDK's proxy: building the proxy and unwrapping
    it again was most of a pack's per-resource work (issue 18). A value with the engine's signature
    key (secret, asset, archive) is decoded by the SDK's own code. tests/policies/test_pack_servicer.py
    compares the answers with the SDK's servicer.
    """
    fields = struct.fields
    if nested and SPECIAL_SIG_KEY in fields:
        return _deserialize_property(json_format.MessageToDict(struct))
    return {key: _plain_value(fields[key]) for key in fields}


class _LazyProps:
    """`props` decoded from the request's Struct when first read, then kept."""

    _message: Any
    _props: Any = _UNSET

    @property
    def props(self) -> Any:
        if self._props is _UNSET:
            self._props = _plain_struct(self._message)
        return self._props

    @props.setter
    def props(self, value: Any) -> None:
        self._props = value


class _LazyProvider(_LazyProps, PolicyProviderResource):
    """A provider whose props are decoded on first read; shared by the resources of one request."""

    def __init__(self, message: Any):
        self._message = message.properties
        super().__init__(message.type, _UNSET, message.urn, message.name)


class _LazyResource(_LazyProps, PolicyResource):
    """A stack resource whose props are decoded on first read, once for every rule of the request."""

    def __init__(self, message: Any, opts: Any, provider: Optional[PolicyProviderResource]):
        self._message = message.properties
        super().__init__(message.type, _UNSET, message.urn, message.name, opts, provider, None, [], {})


def _ours(policy: Policy) -> bool:
    return isinstance(policy, RulePolicy)


class SharedDecodeServicer(_sdk._PolicyAnalyzerServicer):
    """pulumi_policy's Analyzer servicer, decoding each resource at most once per request (module docstring)."""

    @property
    def _policies(self) -> List[Policy]:
        return self._PolicyAnalyzerServicer__policies  # type: ignore[attr-defined]

    def _diagnostic_unknown(self, policy: Policy, error: UnknownValueError) -> Any:
        name = self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]
        version = self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]
        return proto.AnalyzeDiagnostic(
            policyName=policy.name, policyPackName=name, policyPackVersion=version,
            message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: {error.message}",
            urn="", description=policy.description,
            enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY))

    def _run(self, policy: Policy, args: Any, response: Any, level: EnforcementLevel) -> None:
        report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
        try:
            result = policy.validate(args, report)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(asyncio.Task(result, loop=loop))
                loop.close()
        except UnknownValueError as error:
            response.diagnostics.append(self._diagnostic_unknown(policy, error))
        except _sdk._NotApplicableError as error:
            response.not_applicable.append(proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or ""))

    def _provider(self, message: Any, shared: Dict[str, Any]) -> Optional[PolicyProviderResource]:
        if not message.HasField("provider"):
            return None
        key = message.provider.urn
        if key not in shared:
            shared[key] = _LazyProvider(message.provider)
        return shared[key]

    def Analyze(self, request: Any, _context: Any) -> Any:  # noqa: N802 (gRPC method name)
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        shared: Any = None  # (props, opts, provider) of the request, for this library's rules
        for policy in self._policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            if not policy.has_validation():
                response.not_applicable.append(proto.PolicyNotApplicable(
                    policy_name=policy.name, reason="Policy does not implement validate"))
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            if _ours(policy) and isinstance(policy.rule, ResourceRule) and request.type not in policy.rule.resource_types:
                continue  # ResourceRule.validate returns at once for this type: nothing to report
            if _ours(policy):
                if shared is None:
                    shared = (_plain_struct(request.properties), self._get_resource_options(request),
                              self._provider(request, {}))
                props, opts, provider = shared
            else:
                props, opts, provider = (_decode(request.properties), self._get_resource_options(request),
                                         self._get_provider_resource(request))
            args = ResourceValidationArgs(request.type, props, request.urn, request.name, opts, provider,
                                          self._get_policy_config(policy.name),
                                          self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
            self._run(policy, args, response, level)
        return response

    def _stack_resources(self, request: Any, lazy: bool) -> List[PolicyResource]:
        """The request's resources with parents and dependencies linked, as the SDK builds them."""
        resources: List[PolicyResource] = []
        links = []
        providers: Dict[str, Any] = {}
        for r in request.resources:
            opts = self._get_resource_options(r)
            if lazy:
                resource: PolicyResource = _LazyResource(r, opts, self._provider(r, providers))
            else:
                resource = PolicyResource(r.type, _decode(r.properties), r.urn, r.name, opts,
                                          self._get_provider_resource(r), None, [], {})
            resources.append(resource)
            links.append((r.parent, list(r.dependencies), {k: list(v.urns) for k, v in r.propertyDependencies.items()}))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, (parent, dependencies, property_dependencies) in zip(resources, links):
            if parent in by_urn:
                resource.parent = by_urn[parent]
            resource.dependencies.extend(by_urn[d] for d in dependencies if d in by_urn)
            for key, urns in property_dependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns if d in by_urn]
        return resources

    def AnalyzeStack(self, request: Any, _context: Any) -> Any:  # noqa: N802 (gRPC method name)
        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        shared: Optional[List[PolicyResource]] = None
        for policy in self._policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            if _ours(policy):
                if shared is None:
                    shared = self._stack_resources(request, lazy=True)
                resources = shared
            else:
                resources = self._stack_resources(request, lazy=False)
            args = StackValidationArgs(resources, self._get_policy_config(policy.name),
                                       self._PolicyAnalyzerServicer__stack_tags)  # type: ignore[attr-defined]
            self._run(policy, args, response, level)
        return response


def PolicyPack(name: str, policies: List[Policy], enforcement_level: Optional[EnforcementLevel] = None,  # noqa: N802
               initial_config: Optional[Dict[str, Any]] = None, description: Optional[str] = None,
               display_name: Optional[str] = None, readme: Optional[str] = None, provider: Optional[str] = None,
               tags: Optional[List[str]] = None, repository: Optional[str] = None) -> None:
    """`pulumi_policy.PolicyPack` with the SharedDecodeServicer: same arguments, same port line, serves until stopped."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise TypeError(f"Invalid policy pack name {name!r}. Policy pack names may only contain "
                        "alphanumerics, hyphens, underscores, or periods.")
    if not isinstance(policies, list) or not policies or not all(isinstance(p, Policy) for p in policies):
        raise TypeError("Expected policies to be a non-empty list of policies")
    servicer = SharedDecodeServicer(name, "0.0.1", policies, enforcement_level or EnforcementLevel.ADVISORY,
                                    initial_config, description, display_name, readme, provider, tags, repository)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_sdk._GRPC_CHANNEL_OPTIONS)
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(servicer, server)
    port = server.add_insecure_port(address="127.0.0.1:0")
    server.start()
    sys.stdout.buffer.write(f"{port}\n".encode())
    try:
        while True:
            time.sleep(_sdk._ONE_DAY_IN_SECONDS)
    except KeyboardInterrupt:
        server.stop(0)
