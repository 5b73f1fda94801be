"""Output properties made when the program reads them, from answers read one property at a time.

The offline run's replacements for two steps the SDK takes for every property of every registration
(`rpc.transfer_properties`: an Output of four futures and a task each; `rpc.resolve_outputs`: each
property of the answer deserialized, translated and resolved), whether the program reads the property
or not. Swapped in for the run by `offline.outputs_on_demand` and `offline.answers_read_on_demand`,
which say what each saves; tests/engine/test_offline.py compares what each output holds with the SDK's.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

import pulumi
from pulumi import _types as sdk_types
from pulumi import output as sdk_output
from pulumi.runtime import rpc as sdk_rpc
from pulumi.runtime import settings as sdk_settings


class OutputOnDemand(pulumi.Output):
    """An output property of a registered resource whose asyncio machinery is made when the program first reads it.

    Resolving it only keeps the engine's answer; `_data` (what every Output method awaits) is then made
    already resolved, with the same `_OutputData` the SDK's own would hold: the value, whether it is
    known (unknowns inside a value make it unknown, as `_OutputData` decides), whether it is secret,
    and the dependencies with the resource itself. A failed registration makes it fail with that error.
    Its answer is either handed to `resolve` (the SDK's resolver contract) or read from its
    registration's `Answer` (`answers_read_on_demand`), whichever comes first.
    """

    _answer: Optional[tuple] = None  # what `resolve` was handed
    _made: Optional[asyncio.Future] = None  # `_data`, once read

    def __init__(self, registration: "Registration", name: str):  # noqa: D107 - Output.__init__ (its futures and task) is what is left out
        self._registration = registration
        self._property = name

    @property
    def _data(self) -> asyncio.Future:  # type: ignore[override]
        made = self._made
        if made is None:
            made = self._made = asyncio.get_event_loop().create_future()
            if self._answer is not None or self._registration.answer is not None:
                self._settle()
            else:
                self._registration.waiting.append(self)
        return made

    def resolve(self, value: Any, is_known: bool, is_secret: bool, deps: Optional[set], failed: Optional[Exception]) -> None:
        """The SDK's resolver for this property (rpc.Resolver: called once, when the registration is answered)."""
        self._answer = (value, is_known, is_secret, deps, failed)
        if self._made is not None:
            self._settle()

    def _settle(self) -> None:
        if self._made.done():
            return
        answer = self._answer
        if answer is None:
            try:
                answer = self._registration.answer.property(self._property)
            except Exception as exc:  # noqa: BLE001 - the SDK fails the outputs with what reading the answer raised
                answer = (None, False, False, None, exc)
        value, is_known, is_secret, deps, failed = answer
        if failed is not None:
            self._made.set_exception(failed)
            return
        resources = set(deps) if deps else set()
        resources.add(self._registration.resource)
        self._made.set_result(sdk_output._OutputData(resources=resources, value=value, is_known=is_known,
                                                     is_secret=is_secret))


class Registration:
    """What a registered resource's `OutputOnDemand`s share: the resource, and its answer once the engine gives it."""

    __slots__ = ("resource", "answer", "waiting")

    def __init__(self, resource: Any):
        self.resource = resource
        self.answer: Optional[Answer] = None
        self.waiting: list = []  # outputs read before the answer came

    def answered(self, answer: "Answer") -> None:
        self.answer = answer
        waiting, self.waiting = self.waiting, []
        for output in waiting:
            output._settle()


class Resolvers(dict):
    """`transfer_properties`' resolvers (name -> resolver), carrying the registration they belong to."""

    registration: Registration


def transfer_properties(res: Any, props: Any, custom: bool) -> dict:
    """`rpc.transfer_properties` with `OutputOnDemand`s: the same names skipped, the same resolvers' contract."""
    registration = Registration(res)
    resolvers = Resolvers()
    resolvers.registration = registration
    for name in props:
        if name == "urn" or (name == "id" and custom):
            continue  # the SDK resolves these itself
        output = OutputOnDemand(registration, name)
        resolvers[name] = output.resolve
        res.__dict__[name] = output
    return resolvers


class Answer:
    """A registration's answer in a preview, from which each property is read when the program first reads it.

    For one property, the same steps as the SDK's `rpc.resolve_outputs` and `resolve_properties` take
    for all of them in a preview: of the answer's keys that translate to the property's name, the
    last whose value deserializes to something other than None, translated with the resource's types;
    a secret unwrapped; known when not None; unknown when the answer has no such key.
    """

    __slots__ = ("resource", "outputs", "deps", "keep_unknowns", "transform_using_type_metadata", "_keys")

    def __init__(self, resource: Any, outputs: Any, deps: dict, keep_unknowns: bool, transform_using_type_metadata: bool):
        self.resource, self.outputs = resource, outputs
        self.keep_unknowns, self.transform_using_type_metadata = keep_unknowns, transform_using_type_metadata
        self._keys: Optional[dict] = None  # translated name -> the answer's keys, made at the first read
        translate = self._translate() if deps else None
        self.deps = {translate(key): property_deps for key, property_deps in deps.items()} if deps else {}

    def _translate(self) -> Callable[[str], str]:
        """The SDK's name translation of an answer's key (resolve_outputs' `translate`)."""
        if self.transform_using_type_metadata:
            pulumi_to_py_names = sdk_types.resource_pulumi_to_py_names(type(self.resource))
            return lambda prop: pulumi_to_py_names.get(prop) or prop
        return self.resource.translate_output_property

    def property(self, name: str) -> tuple:
        """(value, is_known, is_secret, dependencies, failure), as `resolve_properties` hands them to a resolver."""
        keys = self._keys
        if keys is None:
            translate = self._translate()
            keys = self._keys = {}
            for key in self.outputs.keys():
                keys.setdefault(translate(key), []).append(key)
        deps = self.deps.get(name)
        for key in reversed(keys.get(name, ())):
            value = sdk_rpc.deserialize_property(self.outputs[key], self.keep_unknowns)
            if value is None:
                continue  # deserialize_properties leaves out what deserializes to None
            value = sdk_rpc.translate_output_properties(
                value,
                (lambda prop: prop) if self.transform_using_type_metadata else self.resource.translate_output_property,
                sdk_types.resource_types(type(self.resource)).get(key),
                self.transform_using_type_metadata,
                path=sdk_rpc._Path(name, resource=f"{self.resource._name}"))
            is_secret = sdk_rpc.is_rpc_secret(value)
            value = sdk_rpc.unwrap_rpc_secret(value)
            return (value, value is not None, is_secret, deps, None)
        return (None, False, False, deps, None)


def reading_answers(sdk_resolve_outputs: Callable[..., None]) -> Callable[..., None]:
    """`rpc.resolve_outputs`, leaving each property of a preview's answer to be read when its output is."""

    def resolve_outputs(res: Any, serialized_props: Any, outputs: Any, deps: dict, resolvers: dict, custom: bool,
                        transform_using_type_metadata: bool = False, keep_unknowns: bool = False,
                        resolve_missing_as_unknown: bool = False) -> None:
        if (type(resolvers) is not Resolvers or not sdk_settings.is_dry_run() or sdk_settings.is_legacy_apply_enabled()
                or sdk_rpc._special_sig_key in outputs):
            # Resolvers not made on demand; an update (it falls back on the inputs the engine did not
            # answer); an answer that is as a whole an asset or a secret: the SDK's own way.
            sdk_resolve_outputs(res, serialized_props, outputs, deps, resolvers, custom,
                                transform_using_type_metadata, keep_unknowns, resolve_missing_as_unknown)
            return
        resolvers.registration.answered(Answer(res, outputs, deps, keep_unknowns, transform_using_type_metadata))

    return resolve_outputs
