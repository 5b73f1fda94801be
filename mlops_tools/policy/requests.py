"""The Analyzer requests of one stack: each resource converted to protobuf once and shared by every pack.

A resource reaches a pack twice, as the CLI's engine sends it: in an `AnalyzeRequest` (per-resource
rules) and as an `AnalyzerResource` of the `AnalyzeStackRequest` (stack rules); both carry the same
properties Struct, built once, and the packs of one preview share the requests.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

from google.protobuf import struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from mlops_tools.policy.selection import PROVIDER_TYPE_PREFIX


def to_struct(values: Optional[Mapping[str, Any]]) -> struct_pb2.Struct:
    """A protobuf Struct of plain values (the Analyzer protocol's property maps)."""
    struct = struct_pb2.Struct()
    struct.update(dict(values or {}))
    return struct


def _options(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(protect=bool(resource.get("protect")),
                                                parent=resource.get("parent") or "")


class Requests:
    """The stack's resources (in plan order) as Analyzer requests, each built once.

    `property_structs` (urn -> Struct, optional) are resources' inputs already in protobuf form, plain
    values only (PreviewResult.property_structs: the Structs the program sent); the others are built
    from the resource's `inputs`.
    """

    def __init__(self, resources: Iterable[Mapping[str, Any]], property_structs: Optional[Mapping[str, Any]] = None):
        self.resources = list(resources)
        self.by_urn = {r["urn"]: r for r in self.resources}
        self._analyze: dict = {}
        self._stack: dict = {}
        self._stack_requests: dict = {}  # the URNs a request carries -> the AnalyzeStackRequest
        # urn -> the inputs as a Struct, shared by both kinds of request
        self._properties: dict = dict(property_structs or {})

    def properties(self, resource: Mapping[str, Any]) -> struct_pb2.Struct:
        urn = resource["urn"]
        struct = self._properties.get(urn)
        if struct is None:
            struct = self._properties[urn] = to_struct(resource.get("inputs"))
        return struct

    def _provider(self, resource: Mapping[str, Any]) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        reference = resource.get("provider")
        if not reference or "::" not in reference:
            return None
        provider = self.by_urn.get(reference.rsplit("::", 1)[0])
        if provider is None:
            return None
        return analyzer_pb2.AnalyzerProviderResource(type=provider["type"], properties=self.properties(provider),
                                                     urn=provider["urn"], name=provider["name"])

    def request(self, resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzeRequest:
        """The resource's AnalyzeRequest, with its explicit provider."""
        urn = resource["urn"]
        request = self._analyze.get(urn)
        if request is None:
            request = analyzer_pb2.AnalyzeRequest(type=resource["type"], properties=self.properties(resource),
                                                  urn=urn, name=resource["name"], options=_options(resource))
            provider = self._provider(resource)
            if provider is not None:
                request.provider.CopyFrom(provider)
            self._analyze[urn] = request
        return request

    def analyze(self, wanted: Callable[[str], bool]) -> list:
        """AnalyzeRequests of the resources (not providers) whose type `wanted` accepts, in order."""
        return [self.request(r) for r in self.resources
                if not r["type"].startswith(PROVIDER_TYPE_PREFIX) and wanted(r["type"])]

    def stack_item(self, resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResource:
        """The resource as an item of the AnalyzeStackRequest, with parent, dependencies and provider."""
        urn = resource["urn"]
        item = self._stack.get(urn)
        if item is None:
            item = analyzer_pb2.AnalyzerResource(
                type=resource["type"], properties=self.properties(resource), urn=urn, name=resource["name"],
                options=_options(resource), parent=resource.get("parent") or "",
                dependencies=list(resource.get("dependencies") or []))
            for prop, urns in (resource.get("propertyDependencies") or {}).items():
                item.propertyDependencies[prop].urns.extend(urns)
            provider = self._provider(resource)
            if provider is not None:
                item.provider.CopyFrom(provider)
            self._stack[urn] = item
        return item

    def stack(self, wanted: Callable[[str], bool]) -> analyzer_pb2.AnalyzeStackRequest:
        """One AnalyzeStackRequest of the resources (providers included) whose type `wanted` accepts.

        Packs that take the same resources share one request: building it copies every item into it
        (the whole stack's properties, ~1 MB for prod), once rather than once per pack.
        """
        chosen = [r for r in self.resources if wanted(r["type"])]
        key = tuple(r["urn"] for r in chosen)
        request = self._stack_requests.get(key)
        if request is None:
            request = analyzer_pb2.AnalyzeStackRequest()
            request.resources.extend(self.stack_item(r) for r in chosen)
            self._stack_requests[key] = request
        return request
