"""What the offline run leaves out of the Pulumi SDK's work, or does more directly, and why the plan is the same.

Under `pulumi preview` the SDK talks to the engine; offline it talks to our RecordingMonitor (preview.py),
which records only type, name, parent, custom, provider, inputs, dependencies, protect, secret outputs and
property dependencies. Part of what the SDK computes for every registration is for the engine alone
(aliases, source positions, a client-side URN) or for nobody offline (debug messages), and part is general
machinery a one-process run can take a shorter way through (the engine's calls answered in the program's
own thread, the mock monitor's answers, type unwrapping, Outputs of properties the program never reads,
properties a resource declares but does not set).
Each shortcut below says what it skips and why the records are unchanged; `tests/engine/test_offline.py`
checks each both ways (left out, and the same records when it is not). `sdk_shortcuts()` applies all of
them for one run and restores the SDK after it, so a library caller's next `pulumi up` in the same process
is the SDK's own; none of this ever runs under the Pulumi CLI. Measured figures: docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
from typing import Any, Awaitable, Callable, Generator, Iterator, Optional, TypeVar

import pulumi
from pulumi import _types as sdk_types
from pulumi import log as sdk_log
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import resource_cycle_breaker as sdk_cycle_breaker
from pulumi.runtime import rpc as sdk_rpc
from pulumi.runtime.proto import source_pb2

from mlops_tools.engine import on_demand

T = TypeVar("T")


def without_aliases(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
    """Stack transformation: leave resource aliases out of the offline run.

    An alias only tells the engine which existing state a resource used to be. azure-native declares
    one per older API version (up to 113 on an AgentPool) and the SDK turns each into Outputs and
    asyncio tasks: 30k tasks in azure-prod against 8k in AWS prod. The offline engine has no state to
    migrate, and neither the monitor's record nor the plan contains aliases (only type, name, parent,
    custom, provider, inputs, dependencies, protect), so the plan is byte-identical without them at
    half the Azure program's time. Under the real CLI this function is never registered.
    """
    if not args.opts.aliases:
        return None
    opts = copy.copy(args.opts)
    opts.aliases = None
    return pulumi.ResourceTransformationResult(args.props, opts)


@contextlib.contextmanager
def _swapped(owner: Any, name: str, replacement: Any) -> Iterator[None]:
    """`owner.name` is `replacement` for the block, and what it was again after it (an error included)."""
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


def without_source_positions() -> contextlib.AbstractContextManager:
    """Leave the registrations' source positions (the SDK's stack traces) out of the offline run.

    For every resource the SDK walks the Python stack (`traceback.extract_stack`, a file URI per
    frame) so that the engine can show where in the program it was declared: ~0.2 s CPU of a
    300-resource preview. The offline monitor records neither `sourcePosition` nor `stackTrace`
    (the plan has no such field), so the plan is byte-identical without them.
    """
    return _swapped(sdk_resource, "_get_stack_trace", source_pb2.StackTrace)


class _UnusedUrn:
    """What `without_client_urns` gives the SDK instead of a URN: awaiting its `future()` gives None."""

    async def future(self) -> None:
        return None


def without_client_urns() -> contextlib.AbstractContextManager:
    """Leave out the URN the SDK computes in the program for every registration, unused when a monitor answers.

    `do_register` awaits `create_urn(name, type, parent)` for each resource (four Outputs and their
    asyncio tasks: ~1,900 of prod's 12,000 Outputs, ~0.05-0.09 s CPU) and uses it only when no monitor
    is connected; with one, the URN is the monitor's answer (RecordingMonitor.make_urn, as the engine's).
    The SDK's other callers of `create_urn` compute alias URNs, and the offline run registers no aliases
    (`without_aliases`; the monitor takes alias specs): were one reached, `_UnusedUrn` has no `apply`
    and the preview fails loudly rather than record a wrong URN.
    """
    return _swapped(sdk_resource, "create_urn", lambda *_args, **_kwargs: _UnusedUrn())


def _ignore_debug_message(*_args: Any, **_kwargs: Any) -> None:
    return None


def without_debug_messages() -> contextlib.AbstractContextManager:
    """Leave out the SDK's own debug messages (`pulumi.log.debug`, 4-5 per resource: ~2,200 in prod).

    Under the CLI they reach the engine and show only with `--debug`; offline each became a LogRequest
    for the mock engine, which hands it to Python's root logger at DEBUG, where nothing is configured to
    show it. Info, warnings and errors, the program's and the SDK's, still go through (and a program's
    own `pulumi.debug`, which is a separate name). ~0.02 s CPU of a prod preview.
    """
    return _swapped(sdk_log, "debug", _ignore_debug_message)


class _Continued:
    """Hands a coroutine that has already run up to its first wait back to an event loop, from that wait on."""

    def __init__(self, coroutine: Any, waiting_on: Any):
        self.coroutine, self.waiting_on = coroutine, waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        waiting_on = self.waiting_on
        while True:
            try:
                sent = yield waiting_on
            except BaseException as exc:  # noqa: BLE001 - a cancellation or error delivered by the loop goes on in
                try:
                    waiting_on = self.coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = self.coroutine.send(sent)
                except StopIteration as done:
                    return done.value


def _complete_in_place(sdk_sync_await: Callable[[Awaitable[T]], T]) -> Callable[[Awaitable[T]], T]:
    """The mock monitor's `_sync_await`, finishing a coroutine that never waits without an event loop."""

    def complete(awaitable: Awaitable[T]) -> T:
        if not inspect.iscoroutine(awaitable):
            return sdk_sync_await(awaitable)
        try:
            waiting_on = awaitable.send(None)
        except StopIteration as done:
            return done.value
        return sdk_sync_await(_Continued(awaitable, waiting_on))  # ensure_future takes any awaitable

    return complete


def mock_answers_in_place() -> contextlib.AbstractContextManager:
    """Let the mock monitor serialize its answers without running an event loop when nothing has to wait.

    The SDK's MockMonitor serializes each answer with `_sync_await(rpc.serialize_properties(state))`,
    which runs an event loop for a coroutine that, on the plain values a mock returns, completes without
    ever waiting: from an executor thread, that thread's own loop (~0.2 ms a resource, ~0.05 s CPU of a
    prod preview); from the program's thread (`_MonitorCallsInThisThread`), the program's loop pumped
    re-entrantly, slower still. Here such a coroutine is simply run to its end; one that does wait (it
    awaits a value not yet resolved) is handed, from that point, to the SDK's own `_sync_await`, so the
    answer is the same either way.
    """
    return _swapped(sdk_mocks, "_sync_await", _complete_in_place(sdk_mocks._sync_await))


# The SDK's type-unwrapping functions that serialization calls for every property value, each a pure
# function of a typing object (Optional[Input[str]], Output[T], ...): ~24,000 calls in a prod preview.
_TYPE_UNWRAPPERS = ("unwrap_type", "unwrap_optional_type", "_is_union_type", "_is_optional_type")


def _remembered_by_identity(function: Callable[[Any], T]) -> Callable[[Any], T]:
    """`function`, its answers kept per argument object (by identity: `Union[a, b] == Union[b, a]` in
    typing, while the unwrapping reads the order; the object is kept alive with its answer)."""
    answers: dict = {}

    def remembered(tp: Any) -> T:
        known = answers.get(id(tp))
        if known is not None and known[0] is tp:
            return known[1]
        answer = function(tp)
        answers[id(tp)] = (tp, answer)
        return answer

    return remembered


@contextlib.contextmanager
def remembered_type_unwrapping() -> Iterator[None]:
    """Unwrap each property type once per run instead of once per value (`pulumi._types.unwrap_type` & co.).

    For every property of every resource the SDK's serializer asks what `Optional[Input[T]]` (and the
    like) wraps, through `typing.get_origin`/`get_args`: ~0.05 s CPU of a prod preview, the same
    questions about the same few hundred typing objects. The answers only depend on the object (typing
    caches its aliases, so the same annotation is the same object: 4 in 5 calls are repeats), so each
    is kept for the run; the SDK's functions are back after it.
    """
    with contextlib.ExitStack() as stack:
        for name in _TYPE_UNWRAPPERS:
            stack.enter_context(_swapped(sdk_types, name, _remembered_by_identity(getattr(sdk_types, name))))
        yield


def outputs_on_demand() -> contextlib.AbstractContextManager:
    """Make a registered resource's output properties' futures only for the properties the program reads.

    For every property of every resource (inputs echoed and outputs alike: ~13,000 in prod, ~31 per
    azure-native resource) the SDK makes an Output of four futures and a task that gathers them, tracks
    it until it resolves, and resolves it when the registration is answered, whether or not the program
    ever reads it; most are never read (a bucket's ARN is, its other thirty attributes are not).
    `OutputOnDemand` gives the same data when read, at ~18% less CPU of prod's and azure-prod's
    programs. It is not tracked for the program's final wait: what resolves it is the registration,
    which the SDK's RPC manager awaits there, and a failed registration fails the program there.
    """
    return _swapped(sdk_rpc, "transfer_properties", on_demand.transfer_properties)


def answers_read_on_demand() -> contextlib.AbstractContextManager:
    """Deserialize and translate a registration's answer one property at a time, when the program reads it.

    With `outputs_on_demand` the SDK still deserialized, translated and resolved every property of
    every answer (~30 of an azure-native StorageAccount: the inputs echoed and the mock's outputs),
    though the program reads one or two. Here the answer is kept as the engine sent it and a property
    is read from it when its `OutputOnDemand` is first read, with the SDK's own functions: ~15% less
    CPU of either synthetic program. One difference, offline only: an answer the SDK cannot translate
    (the mock answering a type the class does not declare) fails the program when that property is
    read, not when the resource is registered; the engine's answers under the CLI are the provider's.
    """
    return _swapped(sdk_rpc, "resolve_outputs", on_demand.reading_answers(sdk_rpc.resolve_outputs))


def _serializing_set_properties(sdk_serialize_properties: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`rpc.serialize_properties` handed only the properties that are set (not None), in the same order."""

    async def serialize_properties(inputs: Any, property_deps: dict, *args: Any, **kwargs: Any) -> Any:
        present = {}
        for name in inputs:  # as the SDK reads it: the bag may be a dict subclass redefining items()
            value = inputs[name]
            if value is not None:
                present[name] = value
        return await sdk_serialize_properties(present, property_deps, *args, **kwargs)

    return serialize_properties


def without_unset_properties() -> contextlib.AbstractContextManager:
    """Serialize only the properties a resource sets, not every one its class declares.

    A resource's property bag holds every property its class declares, set or not (an unset input, and
    each output, is None: ~50 of an azure-native StorageAccount's keys). The SDK serializes each and
    then drops the ones that come out None; a None comes out None without a dependency or a type check
    on the way, so leaving them out first gives the same Struct and dependencies (the bag's order kept):
    ~9% less CPU of the Azure synthetic program, ~4% of the AWS one. The mock monitor's answers go the
    same way.
    """
    return _swapped(sdk_rpc, "serialize_properties", _serializing_set_properties(sdk_rpc.serialize_properties))


# The values the SDK's serializer hands back unchanged, with no dependency, whatever the property's type.
_PLAIN_TYPES = frozenset((str, int, float, bool, type(None)))


def _plain_values_at_once(sdk_serialize_property: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`rpc.serialize_property`, answering a plain value (str, int, float, bool, None) itself, at once."""

    async def serialize_property(value: Any, *args: Any, **kwargs: Any) -> Any:
        if type(value) in _PLAIN_TYPES and not kwargs.get("return_protobuf_value"):
            return value
        return await sdk_serialize_property(value, *args, **kwargs)

    return serialize_property


def plain_values_at_once() -> contextlib.AbstractContextManager:
    """Serialize a plain value without the SDK's tour of every kind of value it could be.

    The SDK's serializer asks each value, in turn, whether it is a sequence, an unknown, a resource,
    an asset, an archive, an awaitable, an Output, an input type, a mapping or a protobuf Value before
    handing a str, number, bool or None back as it is (exactly those types: an enum is a str subclass
    and goes the SDK's way). Most values of a registration are plain: ~28,000 serializer calls in the
    Azure synthetic program of 2,000 resources, inputs and the mock's answers alike.
    """
    return _swapped(sdk_rpc, "serialize_property", _plain_values_at_once(sdk_rpc.serialize_property))


def _reachable_by_a_plain_walk(from_resource: Any, to_resource: Any) -> bool:
    """`resource_cycle_breaker._reachable`: is `to_resource` `from_resource` or among its transitive dependencies?"""
    visited: set = set()
    waiting = [from_resource]
    while waiting:
        resource = waiting.pop()
        if resource in visited:
            continue
        if resource == to_resource:
            return True
        visited.add(resource)
        waiting.extend(sdk_cycle_breaker._deps(resource))
    return False


def cycle_checks_by_a_plain_walk() -> contextlib.AbstractContextManager:
    """Check a new dependency for a cycle by walking the dependency graph with a list, not nested generators.

    Before the SDK records that a resource depends on another, it walks everything the other depends on,
    transitively, to see whether the first is among them (`resource_cycle_breaker`). Its walk nests a
    generator per resource on the path (`yield from`), so each resource reached is handed up through
    every generator above it: along a chain of n dependencies a check costs n squared steps, and the
    checks of a growing chain n cubed. AKS runs one operation per cluster at a time, so the Azure
    training pools form such a chain (each AgentPool waits for the one before): azure-dev with 100 more
    pools took 0.1 s more for it, a second pass of 50 pools costing 0.5 s against the first 50's 0.3 s.
    The same question answered by a plain walk gives the same answer (which resources are reachable does
    not depend on the order they are visited in), in time linear in what it visits.
    """
    return _swapped(sdk_cycle_breaker, "_reachable", _reachable_by_a_plain_walk)


class _MonitorCallsInThisThread(asyncio.SelectorEventLoop):
    """The offline run's event loop: what the SDK hands its default executor runs at once, in this thread.

    The SDK sends every call to the engine through `run_in_executor(None, ...)` (registrations,
    invokes, outputs, feature checks), so that a blocking gRPC round trip does not stall the program.
    Offline the engine is RecordingMonitor in this process, answering in ~0.3 ms of Python, and the
    hop cost more than the answer: a pool thread woken, the interpreter lock handed over and back, this
    loop woken through its self-pipe, once per call. Answered here instead: ~0.12 s less CPU of prod's
    program (19%), the same records. An explicit executor keeps its threads. Only worth it with
    `mock_answers_in_place`: the mock monitor's own `_sync_await`, reached from this thread, would
    pump this very loop re-entrantly (measured: 60% slower than the thread hop).
    """

    def run_in_executor(self, executor: Any, func: Callable[..., T], *args: Any) -> "asyncio.Future[T]":
        if executor is not None:
            return super().run_in_executor(executor, func, *args)
        answered = self.create_future()
        try:
            answered.set_result(func(*args))
        except Exception as exc:  # noqa: BLE001 - delivered to the awaiting SDK code, as the executor would
            answered.set_exception(exc)
        return answered


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop an offline run registers its program on (see `_MonitorCallsInThisThread`)."""
    return _MonitorCallsInThisThread()


@contextlib.contextmanager
def sdk_shortcuts() -> Iterator[None]:
    """Every shortcut above for one offline run, but the alias transformation (the program registers it) and the
    event loop (preview_program makes its loop with `new_event_loop`).

    Looked up by name when entered, so a test can put one back to the SDK's way (monkeypatch it with
    `contextlib.nullcontext`) and compare the records.
    """
    module = globals()
    with contextlib.ExitStack() as stack:
        for name in ("without_source_positions", "without_client_urns", "without_debug_messages",
                     "mock_answers_in_place", "remembered_type_unwrapping", "outputs_on_demand",
                     "answers_read_on_demand", "without_unset_properties", "plain_values_at_once",
                     "cycle_checks_by_a_plain_walk"):
            stack.enter_context(module[name]())
        yield
