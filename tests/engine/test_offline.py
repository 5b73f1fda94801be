"""What the offline run leaves out of the SDK's work or does more directly (mlops_tools/engine/offline.py).

Each shortcut both ways: the SDK's own path is really skipped during the run (and really taken without the
shortcut, so the check can fail), the SDK is itself again after the run, and the records are the same.
"""

import asyncio
import contextlib
import threading
import typing

import pulumi
import pulumi_azure_native as azure
import pytest
from google.protobuf import struct_pb2
from pulumi import _types as sdk_types
from pulumi import log as sdk_log
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import resource_cycle_breaker as sdk_resource_cycle_breaker
from pulumi.runtime import rpc as sdk_rpc

from mlops_tools.engine import offline, on_demand
from mlops_tools.engine import preview as engine_preview
from mlops_tools.engine.preview import PreviewError, RecordingMonitor, preview_program

CONFIG = {"mlops:region": "westeurope"}


def _pool_program():
    group = azure.resources.ResourceGroup("rg")
    azure.containerservice.AgentPool("gpu", agent_pool_name="gpu", resource_group_name=group.name,
                                     resource_name_="aks", vm_size="Standard_NC8as_T4_v3", count=0)
    azure.storage.StorageAccount("sa", resource_group_name=group.name, kind="StorageV2", sku={"name": "Standard_LRS"},
                                 opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-sa")]))


def _preview(program=_pool_program):
    return preview_program(program, stack="dev", config=CONFIG)


def _the_sdks_way(monkeypatch, shortcut: str):
    """The next preview without `shortcut` (sdk_shortcuts looks each up by name when entered)."""
    monkeypatch.setattr(offline, shortcut, contextlib.nullcontext)


def _noting_calls(monkeypatch, owner, name: str, note=lambda *args, **kwargs: args[0] if args else None):
    """`owner.name` wrapped so that each call is noted (`note` of its arguments) and then made as before.

    Returns the notes and the wrapper (what a shortcut must put back after the run)."""
    notes = []
    original = getattr(owner, name)

    def noting(*args, **kwargs):
        notes.append(note(*args, **kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, noting)
    return notes, noting


def _pool_program_noted_from(notes: list):
    """The pool program, with what was noted before it (set_mocks' root stack, an earlier run) forgotten."""
    def program():
        notes.clear()
        _pool_program()
    return program


def _count_aliases(monkeypatch) -> dict:
    """Resource name -> how many aliases its RegisterResource request carried (filled as the preview runs)."""
    seen: dict = {}
    _noting_calls(monkeypatch, RecordingMonitor, "RegisterResource", note=lambda _monitor, request: seen.update(
        {request.name: len(request.aliases) + len(request.aliasURNs)}))
    return seen


def test_aliases_stay_out_of_the_offline_run_and_the_record_is_unchanged(monkeypatch):
    seen = _count_aliases(monkeypatch)
    result = _preview()
    # azure-native declares ~100 API-version aliases on an AgentPool; our own alias is gone too.
    assert seen["gpu"] == 0 and seen["sa"] == 0
    pool = result.one("azure-native:containerservice:AgentPool", "gpu")
    assert pool["inputs"]["vmSize"] == "Standard_NC8as_T4_v3"
    assert set(pool) == set(engine_preview.PLAN_RESOURCE_KEYS) | {"propertyDependencies"}, "the plan records no aliases"


def test_without_the_transformation_the_sdk_would_send_them(monkeypatch):
    """The check above is meaningful: the SDK really sends the aliases when nothing leaves them out."""
    seen = _count_aliases(monkeypatch)
    monkeypatch.setattr(engine_preview, "_offline", lambda program: program)
    with_aliases = _preview()
    assert seen["gpu"] > 50 and seen["sa"] > 1  # the storage account has API-version aliases plus ours
    monkeypatch.undo()
    assert with_aliases.masked_resources() == _preview().masked_resources()


# (what the SDK calls, shortcut that leaves it out) for the work the offline run skips altogether:
LEFT_OUT = {
    # a walk of the Python stack per registration, for a source position the record never keeps
    "source positions": (sdk_resource.traceback, "extract_stack", "without_source_positions"),
    # a URN computed in the program per registration, used only when no monitor answers
    "client-side URNs": (sdk_resource, "create_urn", "without_client_urns"),
    # an event loop run per answer of the mock monitor, for a coroutine that never waits
    "mock answers on a loop": (sdk_mocks, "_sync_await", "mock_answers_in_place"),
}


@pytest.mark.parametrize("work", list(LEFT_OUT), ids=list(LEFT_OUT))
def test_what_the_offline_run_leaves_out_is_never_done_and_the_records_are_the_same(monkeypatch, work):
    """Each call of the SDK's own is noted: none during the offline run, one per registration without the
    shortcut (so the first check can fail); the SDK is itself again after the run; same records and URNs."""
    owner, name, shortcut = LEFT_OUT[work]
    calls, noting = _noting_calls(monkeypatch, owner, name)
    program = _pool_program_noted_from(calls)
    without = _preview(program)
    assert calls == [] and getattr(owner, name) is noting  # restored for library callers
    _the_sdks_way(monkeypatch, shortcut)
    the_sdks = _preview(program)
    assert len(calls) >= 3  # the pool program registers three resources
    assert the_sdks.masked_resources() == without.masked_resources()
    assert the_sdks.masked_outputs() == without.masked_outputs()
    assert [r["urn"] for r in without.records] == [r["urn"] for r in the_sdks.records]


def test_the_sdks_debug_messages_stay_out_and_the_programs_warnings_still_reach_the_engine(monkeypatch):
    logged = []
    original_log = sdk_log._log
    monkeypatch.setattr(sdk_log, "_log", lambda engine, severity, message, *rest: (
        logged.append((severity, message)), original_log(engine, severity, message, *rest))[1])
    original_debug = sdk_log.debug

    def program():
        logged.clear()
        _pool_program()
        pulumi.log.warn("a warning of the program's own")

    without = _preview(program)
    assert sdk_log.debug is original_debug  # restored for library callers
    severities = {severity for severity, _ in logged}
    assert severities == {pulumi.runtime.proto.engine_pb2.WARNING}, logged
    _the_sdks_way(monkeypatch, "without_debug_messages")
    with_messages = _preview(program)
    debug = [message for severity, message in logged if severity == pulumi.runtime.proto.engine_pb2.DEBUG]
    assert any("registering resource" in m for m in debug)  # the check above can fail: the SDK does send them
    assert with_messages.masked_resources() == without.masked_resources()


@pytest.fixture
def event_loop_of_this_thread():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def test_a_coroutine_that_waits_is_finished_by_the_sdks_sync_await_from_where_it_waited(event_loop_of_this_thread):
    loop = event_loop_of_this_thread
    steps = []

    async def waits():
        steps.append("before")  # runs once, in place, before the wait
        ready = loop.create_future()
        loop.call_soon(ready.set_result, 41)
        value = await ready
        await asyncio.sleep(0)
        steps.append("after")
        return value + 1

    async def fails_after_waiting():
        await asyncio.sleep(0)
        raise ValueError("the coroutine's own error")

    complete = offline._complete_in_place(sdk_mocks._sync_await)
    assert complete(waits()) == 42 and steps == ["before", "after"]
    with pytest.raises(ValueError, match="the coroutine's own error"):
        complete(fails_after_waiting())
    future = loop.create_future()
    future.set_result("a future is not a coroutine: the SDK's way")
    assert complete(future) == "a future is not a coroutine: the SDK's way"


def test_type_unwrapping_is_remembered_per_typing_object_not_per_equal_one():
    """typing makes Union[int, str] == Union[str, int]; the unwrapping reads the order, so equality won't do."""
    remembered = offline._remembered_by_identity(typing.get_args)
    first, second = typing.Union[int, str], typing.Union[str, int]
    assert first == second and first is not second
    assert remembered(first) == (int, str) and remembered(second) == (str, int)
    assert remembered(first) == (int, str)


def test_type_unwrapping_is_done_once_per_type_and_the_records_are_the_same(monkeypatch):
    _preview()  # the SDK's first look at these classes unwraps more (cached by the SDK itself): not counted
    calls, counting = _noting_calls(monkeypatch, sdk_types, "unwrap_type")
    program = _pool_program_noted_from(calls)
    remembered = _preview(program)
    once = len(calls)
    assert sdk_types.unwrap_type is counting  # restored for library callers
    assert once == len({id(tp) for tp in calls})  # each typing object unwrapped once
    _the_sdks_way(monkeypatch, "remembered_type_unwrapping")
    every_time = _preview(program)
    assert len(calls) > once  # the check above can fail: the SDK asks again for every value of a type
    assert every_time.masked_resources() == remembered.masked_resources()


def test_a_failing_program_leaves_the_sdk_as_it_found_it():
    swapped = [(sdk_resource, "_get_stack_trace"), (sdk_resource, "create_urn"), (sdk_log, "debug"),
               (sdk_mocks, "_sync_await"), (sdk_rpc, "transfer_properties"), (sdk_rpc, "serialize_properties"),
               (sdk_rpc, "resolve_outputs"), (sdk_rpc, "serialize_property"),
               (sdk_resource_cycle_breaker, "_reachable")] + \
        [(sdk_types, name) for name in offline._TYPE_UNWRAPPERS]
    before = [getattr(owner, name) for owner, name in swapped]

    def program():
        _pool_program()
        raise RuntimeError("the program's own error")

    with pytest.raises(PreviewError, match="the program's own error"):
        _preview(program)
    assert [getattr(owner, name) for owner, name in swapped] == before


def _threads_of_registrations(monkeypatch) -> list:
    threads, _ = _noting_calls(monkeypatch, RecordingMonitor, "RegisterResource",
                               note=lambda *_args: threading.get_ident())
    return threads


def test_the_engines_calls_are_answered_in_the_programs_thread_and_the_records_are_the_same(monkeypatch):
    threads = _threads_of_registrations(monkeypatch)
    in_this_thread = _preview()
    assert set(threads) == {threading.get_ident()}  # no executor thread in between
    threads.clear()
    monkeypatch.setattr(offline, "new_event_loop", asyncio.new_event_loop)  # the SDK's way: the loop's executor
    through_threads = _preview()
    assert threading.get_ident() not in threads and threads  # the check above can fail
    assert through_threads.masked_resources() == in_this_thread.masked_resources()
    assert through_threads.masked_outputs() == in_this_thread.masked_outputs()


def _unanswered_invoke():
    azure.storage.list_storage_account_keys(account_name="sa", resource_group_name="rg")


def test_an_engine_call_that_fails_fails_the_program_as_it_does_through_the_executor(monkeypatch):
    with pytest.raises(PreviewError) as in_this_thread:
        _preview(_unanswered_invoke)
    monkeypatch.setattr(offline, "new_event_loop", asyncio.new_event_loop)
    with pytest.raises(PreviewError) as through_threads:
        _preview(_unanswered_invoke)
    assert "no answer for invoke azure-native:storage:listStorageAccountKeys" in str(in_this_thread.value)
    # The traceback holds no frame of the program here; a frame of Python's own (thread.py, base_events.py)
    # is never named as where in the project the error was raised.
    assert " (at " not in str(in_this_thread.value)
    assert str(in_this_thread.value) == str(through_threads.value)


def test_outputs_of_properties_the_program_never_reads_are_never_made_and_the_records_are_the_same(monkeypatch):
    registered = {}

    def program():
        group = azure.resources.ResourceGroup("rg")
        account = azure.storage.StorageAccount("sa", resource_group_name=group.name, kind="StorageV2",
                                               sku={"name": "Standard_LRS"})
        registered.update(group=group, account=account)

    made_on_demand = _preview(program)
    group_outputs = {name: value for name, value in vars(registered["group"]).items()
                     if isinstance(value, on_demand.OutputOnDemand)}
    account_outputs = [value for value in vars(registered["account"]).values() if isinstance(value, on_demand.OutputOnDemand)]
    assert len(account_outputs) > 20 and all(output._made is None for output in account_outputs)  # none read
    assert group_outputs["name"]._made is not None  # read: the account's input
    assert sum(output._made is not None for output in group_outputs.values()) == 1
    _the_sdks_way(monkeypatch, "outputs_on_demand")
    every_one = _preview(program)
    assert not any(isinstance(value, on_demand.OutputOnDemand) for value in vars(registered["account"]).values())
    assert every_one.masked_resources() == made_on_demand.masked_resources()


class _Resource:
    """Stands in for a registered resource: what transfer_properties sets its outputs on."""


# (value, is_known, is_secret, dependencies, failure) as the SDK's resolve_properties hands them over
ANSWERS = {
    "known": ("arn:aws:s3:::b", True, False, None, None),
    "unknown in a preview": (None, False, False, None, None),
    "secret with dependencies": ({"password": "p"}, True, True, {"dep"}, None),
    "unknown inside a value": ({"a": [pulumi.runtime.rpc.UNKNOWN]}, True, False, None, None),
    "failed registration": (None, False, False, None, RuntimeError("registration failed")),
}


async def _what_it_holds(output) -> tuple:
    try:
        value = await output.future(with_unknowns=True)
    except RuntimeError as error:
        return ("failed", str(error))
    return (value, await output.is_known(), await output.is_secret(),
            sorted(type(r).__name__ if isinstance(r, _Resource) else r for r in await output.resources()))


@pytest.mark.parametrize("read_first", [True, False], ids=["read before the answer", "read after it"])
@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_an_output_on_demand_holds_what_the_sdks_own_would(event_loop_of_this_thread, answer, read_first):
    loop = event_loop_of_this_thread
    sdks_resource, our_resource = _Resource(), _Resource()
    sdks = sdk_rpc.transfer_properties(sdks_resource, {"arn": None, "id": None, "urn": None}, True)
    ours = on_demand.transfer_properties(our_resource, {"arn": None, "id": None, "urn": None}, True)
    assert set(sdks) == set(ours) == {"arn"}  # urn and id are the SDK's own business, both ways
    reading = loop.create_task(_what_it_holds(our_resource.arn)) if read_first else None
    sdks["arn"](*ANSWERS[answer])
    ours["arn"](*ANSWERS[answer])
    expected = loop.run_until_complete(_what_it_holds(sdks_resource.arn))
    got = loop.run_until_complete(reading if read_first else _what_it_holds(our_resource.arn))
    assert got == expected


def test_only_the_properties_a_resource_sets_are_serialized_and_the_records_are_the_same(monkeypatch):
    """A resource's bag holds every declared property, None when unset; the SDK serialized each of them."""
    unset, _ = _noting_calls(monkeypatch, sdk_rpc, "serialize_properties",
                             note=lambda inputs, *_args, **_kwargs: sum(inputs[k] is None for k in inputs))
    program = _pool_program_noted_from(unset)
    set_only = _preview(program)
    assert unset and not any(unset)  # serialized bags, none holding an unset property
    _the_sdks_way(monkeypatch, "without_unset_properties")
    every_declared = _preview(program)
    assert sum(unset) > 50  # the check above can fail: an AgentPool alone declares dozens it leaves unset
    assert every_declared.masked_resources() == set_only.masked_resources()
    assert every_declared.masked_outputs() == set_only.masked_outputs()
    assert [r["propertyDependencies"] for r in every_declared.records] == [r["propertyDependencies"] for r in set_only.records]


def _account_program():
    """A group and an account wired by the group's name; the account's name, tier and tags exported."""
    group = azure.resources.ResourceGroup("rg")
    account = azure.storage.StorageAccount("sa", resource_group_name=group.name, kind="StorageV2",
                                           sku={"name": "Standard_LRS"}, tags={"team": "ml"})
    pulumi.export("accountName", account.name)
    pulumi.export("tier", account.sku.apply(lambda sku: sku.name))
    pulumi.export("tags", account.tags)


def test_answers_are_read_only_for_the_properties_the_program_reads_and_the_records_are_the_same(monkeypatch):
    read, _ = _noting_calls(monkeypatch, on_demand.Answer, "property", note=lambda _answer, name: name)
    resolved_by_the_sdk, _ = _noting_calls(monkeypatch, sdk_rpc, "resolve_outputs")

    def program():
        resolved_by_the_sdk.clear()  # set_mocks' root stack, registered before the run
        _account_program()

    read_on_demand = _preview(program)
    assert not resolved_by_the_sdk  # no answer went through the SDK's resolve_outputs
    assert sorted(read) == ["name", "name", "sku", "tags"]  # the group's name, and what the account exports
    exported = read_on_demand.masked_outputs()
    assert exported["accountName"].startswith("sa") and exported["tier"] == "Standard_LRS"  # an output type's field
    assert exported["tags"] == {"team": "ml"}
    read.clear()
    _the_sdks_way(monkeypatch, "answers_read_on_demand")
    every_property = _preview(program)
    assert not read and len(resolved_by_the_sdk) >= 2  # the check above can fail: the SDK resolves every answer
    assert every_property.masked_resources() == read_on_demand.masked_resources()
    assert every_property.masked_outputs() == read_on_demand.masked_outputs()


_SECRET = {sdk_rpc._special_sig_key: sdk_rpc._special_secret_sig}

# answers a StorageAccount can be given: (the engine's answer, property dependencies by the answer's key)
ENGINE_ANSWERS = {
    "values and an output type": ({"name": "sa1", "sku": {"name": "Standard_LRS", "tier": "Standard"},
                                   "tags": {"a": "b"}}, {}),
    "a secret, with dependencies": ({"name": {**_SECRET, "value": "sa1"}, "tags": {"a": "b"}},
                                    {"name": {"dep"}, "kind": {"dep of a property not answered"}}),
    "a secret inside a value": ({"tags": {"a": {**_SECRET, "value": "b"}}}, {}),
    "unknowns": ({"name": sdk_rpc.UNKNOWN, "tags": {"a": sdk_rpc.UNKNOWN}}, {}),
    "a None in a map, a None property": ({"tags": {"a": None, "b": "c"}, "name": None}, {}),
    "nothing": ({}, {}),
}
PROPERTIES = ("name", "sku", "tags", "kind")


def _described(value):
    """A value comparable across two runs: an Unknown is a fresh object each time, an output type a dict."""
    if isinstance(value, pulumi.output.Unknown):
        return "<unknown>"
    if isinstance(value, dict):
        return (type(value).__name__, {key: _described(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_described(item) for item in value]
    return value


async def _what_a_property_holds(output) -> tuple:
    value = await output.future(with_unknowns=True)
    resources = sorted(r if isinstance(r, str) else "the account" for r in await output.resources())
    return (_described(value), await output.is_known(), await output.is_secret(), resources)


@pytest.mark.parametrize("keep_unknowns", [True, False], ids=["keeping unknowns", "not keeping them"])
@pytest.mark.parametrize("read_first", [True, False], ids=["read before the answer", "read after it"])
@pytest.mark.parametrize("answer", list(ENGINE_ANSWERS), ids=list(ENGINE_ANSWERS))
def test_a_property_read_from_the_answer_holds_what_the_sdk_would_resolve(event_loop_of_this_thread, monkeypatch,
                                                                          answer, read_first, keep_unknowns):
    monkeypatch.setattr(pulumi.runtime.settings, "is_dry_run", lambda: True)
    loop = event_loop_of_this_thread
    state, deps = ENGINE_ANSWERS[answer]
    outputs = struct_pb2.Struct()
    outputs.update(state)
    accounts = {}
    for way in ("sdk", "ours"):
        account = azure.storage.StorageAccount.__new__(azure.storage.StorageAccount)
        account._name = "sa"
        props = dict.fromkeys(PROPERTIES)
        if way == "sdk":
            resolvers = sdk_rpc.transfer_properties(account, props, True)
            resolve_outputs = sdk_rpc.resolve_outputs
        else:
            resolvers = on_demand.transfer_properties(account, props, True)
            resolve_outputs = on_demand.reading_answers(sdk_rpc.resolve_outputs)
        reading = [loop.create_task(_what_a_property_holds(getattr(account, name))) for name in PROPERTIES] \
            if read_first and way == "ours" else None
        resolve_outputs(account, struct_pb2.Struct(), outputs, deps, resolvers, True, True, keep_unknowns)
        accounts[way] = (account, reading)
    expected = [loop.run_until_complete(_what_a_property_holds(getattr(accounts["sdk"][0], name))) for name in PROPERTIES]
    account, reading = accounts["ours"]
    got = [loop.run_until_complete(task) for task in reading] if reading else \
        [loop.run_until_complete(_what_a_property_holds(getattr(account, name))) for name in PROPERTIES]
    assert got == expected


def test_plain_values_skip_the_sdks_serializer_and_the_records_are_the_same(monkeypatch):
    handed, _ = _noting_calls(monkeypatch, sdk_rpc, "serialize_property", note=lambda value, *_args, **_kwargs: type(value))
    program = _pool_program_noted_from(handed)
    at_once = _preview(program)
    assert handed and not set(handed) & offline._PLAIN_TYPES  # the SDK's serializer saw Outputs, dicts, lists only
    _the_sdks_way(monkeypatch, "plain_values_at_once")
    through_the_sdk = _preview(program)
    assert sum(kind in offline._PLAIN_TYPES for kind in handed) > 10  # the check above can fail
    assert through_the_sdk.masked_resources() == at_once.masked_resources()
    assert [r["propertyDependencies"] for r in through_the_sdk.records] == [r["propertyDependencies"] for r in at_once.records]


def test_an_enum_is_not_a_plain_str_to_the_serializer():
    """An azure-native enum is a str subclass: it goes the SDK's way, whatever that does with it."""
    handed = []

    async def sdks_serializer(value, *_args, **_kwargs):
        handed.append(value)
        return "the SDK's answer"

    serialize = offline._plain_values_at_once(sdks_serializer)
    kind = azure.storage.Kind.STORAGE_V2
    assert asyncio.run(serialize(kind, [], "kind")) == "the SDK's answer" and handed == [kind]
    assert asyncio.run(serialize("StorageV2", [], "kind")) == "StorageV2" and handed == [kind]
    assert asyncio.run(serialize("StorageV2", [], "kind", return_protobuf_value=True)) == "the SDK's answer"


def _chained_pools_program(count: int = 12):
    """AgentPools that each wait for the one before, as AKS pools of one cluster do (components/training/azure.py)."""
    def program():
        group = azure.resources.ResourceGroup("rg")
        previous = None
        for index in range(count):
            previous = azure.containerservice.AgentPool(
                f"pool-{index}", agent_pool_name=f"pool{index}", resource_group_name=group.name, resource_name_="aks",
                vm_size="Standard_D8s_v5", count=0, opts=pulumi.ResourceOptions(depends_on=[previous] if previous else None))
    return program


def test_cycle_checks_walk_the_graph_plainly_and_the_records_are_the_same(monkeypatch):
    steps, _ = _noting_calls(monkeypatch, sdk_resource_cycle_breaker, "_with_transitive_deps")
    program = _chained_pools_program()
    plain = _preview(program)
    assert not steps  # the SDK's generator walk never ran
    _the_sdks_way(monkeypatch, "cycle_checks_by_a_plain_walk")
    nested = _preview(program)
    assert len(steps) > 12 * 12 // 2  # the check above can fail: the SDK walks the chain once per check
    assert nested.masked_resources() == plain.masked_resources()
    assert [r["dependencies"] for r in nested.records] == [r["dependencies"] for r in plain.records]


class _Node:
    """Stands in for a resource in the SDK's dependency graph (`_direct_computed_dependencies`)."""

    def __init__(self, name: str, *deps: "_Node"):
        self.name = name
        if deps:
            self._direct_computed_dependencies = set(deps)


def test_a_plain_walk_reaches_what_the_sdks_walk_reaches():
    a = _Node("a")
    b, c = _Node("b", a), _Node("c", a)
    d = _Node("d", b, c)  # a diamond
    e = _Node("e", d)
    lone = _Node("lone")
    nodes = [a, b, c, d, e, lone]
    sdks = {(x.name, y.name): sdk_resource_cycle_breaker._reachable(x, y) for x in nodes for y in nodes}
    ours = {(x.name, y.name): offline._reachable_by_a_plain_walk(x, y) for x in nodes for y in nodes}
    assert ours == sdks and sdks[("e", "a")] and not sdks[("a", "e")] and sdks[("lone", "lone")]


def test_a_dependency_cycle_still_fails_the_preview_as_the_sdk_would(monkeypatch):
    """A child that depends on its own parent component depends on itself: the SDK's cycle check refuses it."""
    def program():
        parent = pulumi.ComponentResource("mlops:test:Parent", "parent")
        azure.resources.ResourceGroup("rg", opts=pulumi.ResourceOptions(parent=parent, depends_on=[parent]))

    with pytest.raises(PreviewError, match="circular dependency") as plain:
        _preview(program)
    _the_sdks_way(monkeypatch, "cycle_checks_by_a_plain_walk")
    with pytest.raises(PreviewError, match="circular dependency") as nested:
        _preview(program)
    assert str(plain.value) == str(nested.value)
